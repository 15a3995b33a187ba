/*
 * Optional accelerator for generator/pdf/type1.py: which codes a content stream shows in
 * which font. Pruning a document's fonts to the glyphs its pages draw needs every text
 * operator of every page; pikepdf's parser hands each instruction to Python as objects, some
 * 3 ms a page. This lexer (PDF 32000-1, 7.2 and 7.8) reads the stream's bytes once and keeps
 * only what that question needs: the font a ``Tf`` selects (saved by ``q``, restored by
 * ``Q``), the strings ``Tj`` ``'`` ``"`` and ``TJ`` show, and the forms ``Do`` draws.
 * type1.py falls back to pikepdf's parser, which gives the same answer, when this was not built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

/* how deep containers are told apart (only the outermost one matters) */
#define MAX_NESTED 64

enum { OP_NONE, OP_STRING, OP_ARRAY, OP_OTHER };

typedef struct {
    unsigned char *data;
    Py_ssize_t len, cap;
} Buffer;

static int
buffer_put(Buffer *b, unsigned char c)
{
    if (b->len == b->cap) {
        Py_ssize_t cap = b->cap ? b->cap * 2 : 256;
        unsigned char *grown = PyMem_Realloc(b->data, cap);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        b->data = grown;
        b->cap = cap;
    }
    b->data[b->len++] = c;
    return 0;
}

static int
is_space(unsigned char c)
{
    return c == 0 || c == 9 || c == 10 || c == 12 || c == 13 || c == 32;
}

static int
is_delimiter(unsigned char c)
{
    return c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' ||
           c == '}' || c == '/' || c == '%';
}

static int
hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Read a literal string from just after its '(' into out; return the position after ')'. */
static Py_ssize_t
literal_string(const unsigned char *s, Py_ssize_t at, Py_ssize_t n, Buffer *out)
{
    int depth = 1;
    while (at < n) {
        unsigned char c = s[at++];
        if (c == '\\') {
            if (at >= n)
                break;
            c = s[at++];
            switch (c) {
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case '\r':
                if (at < n && s[at] == '\n')
                    at++;
                continue; /* a line continued */
            case '\n':
                continue;
            default:
                if (c >= '0' && c <= '7') {
                    int value = c - '0';
                    for (int i = 0; i < 2 && at < n && s[at] >= '0' && s[at] <= '7'; i++)
                        value = value * 8 + (s[at++] - '0');
                    c = (unsigned char)(value & 0xFF);
                }
            }
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            if (--depth == 0)
                return at;
        } else if (c == '\r') {
            /* an end of line in a string reads as one line feed */
            if (at < n && s[at] == '\n')
                at++;
            c = '\n';
        }
        if (buffer_put(out, c) < 0)
            return -1;
    }
    return n;
}

/* Read a hexadecimal string from just after its '<'; return the position after '>'. */
static Py_ssize_t
hex_string(const unsigned char *s, Py_ssize_t at, Py_ssize_t n, Buffer *out)
{
    int high = -1;
    while (at < n) {
        unsigned char c = s[at++];
        if (c == '>')
            break;
        int v = hex_value(c);
        if (v < 0)
            continue; /* white space (or a bad character: skipped) */
        if (high < 0) {
            high = v;
        } else {
            if (buffer_put(out, (unsigned char)(high * 16 + v)) < 0)
                return -1;
            high = -1;
        }
    }
    if (high >= 0 && buffer_put(out, (unsigned char)(high * 16)) < 0)
        return -1;
    return at;
}

/* Read a name from just after its '/', #xx escapes decoded, "/" first; return the end. */
static Py_ssize_t
name_token(const unsigned char *s, Py_ssize_t at, Py_ssize_t n, Buffer *out)
{
    out->len = 0;
    if (buffer_put(out, '/') < 0)
        return -1;
    while (at < n && !is_space(s[at]) && !is_delimiter(s[at])) {
        unsigned char c = s[at++];
        if (c == '#' && at + 1 < n && hex_value(s[at]) >= 0 && hex_value(s[at + 1]) >= 0) {
            c = (unsigned char)(hex_value(s[at]) * 16 + hex_value(s[at + 1]));
            at += 2;
        }
        if (buffer_put(out, c) < 0)
            return -1;
    }
    return at;
}

/* Add the distinct bytes of a string to the codes of the font in use (a 256-flag set). */
static void
mark(unsigned char *codes, const Buffer *shown)
{
    if (codes == NULL)
        return;
    for (Py_ssize_t i = 0; i < shown->len; i++)
        codes[shown->data[i]] = 1;
}

typedef struct {
    PyObject *fonts;   /* name -> 256 flags (a bytearray), in the order first selected */
    PyObject *forms;   /* names drawn by Do, in order */
    unsigned char *current;   /* the flags of the font in use, or NULL */
    unsigned char **saved;    /* the fonts q saved, as deep as the stream goes */
    Py_ssize_t depth_saved, cap_saved;
} State;

/* Return the flags of a font name (created empty when first selected), borrowed. */
static unsigned char *
font_codes(State *st, const Buffer *name)
{
    PyObject *key = PyUnicode_DecodeLatin1((const char *)name->data, name->len, NULL);
    if (key == NULL)
        return NULL;
    PyObject *flags = PyDict_GetItemWithError(st->fonts, key);
    if (flags == NULL) {
        if (PyErr_Occurred() || (flags = PyByteArray_FromStringAndSize(NULL, 256)) == NULL) {
            Py_DECREF(key);
            return NULL;
        }
        memset(PyByteArray_AS_STRING(flags), 0, 256);
        int failed = PyDict_SetItem(st->fonts, key, flags);
        Py_DECREF(flags); /* the dictionary holds it */
        if (failed < 0) {
            Py_DECREF(key);
            return NULL;
        }
    }
    Py_DECREF(key);
    return (unsigned char *)PyByteArray_AS_STRING(flags);
}

/* Skip an inline image's data after its ID operator: up to white space, EI, white space. */
static Py_ssize_t
inline_image(const unsigned char *s, Py_ssize_t at, Py_ssize_t n)
{
    if (at < n && is_space(s[at]))
        at++;
    for (; at + 1 < n; at++) {
        if (s[at] == 'E' && s[at + 1] == 'I' && at > 0 && is_space(s[at - 1]) &&
            (at + 2 == n || is_space(s[at + 2]) || is_delimiter(s[at + 2])))
            return at + 2;
    }
    return n;
}

/* The operator of a token: act on the operands gathered since the last one. */
static int
operator(State *st, const unsigned char *op, Py_ssize_t len, int last, const Buffer *string,
         const Buffer *array, int first_is_name, const Buffer *first_name)
{
#define IS(word) (len == (Py_ssize_t)strlen(word) && memcmp(op, word, len) == 0)
    if (IS("Tj") || IS("'") || IS("\"")) {
        if (last == OP_STRING)
            mark(st->current, string);
    } else if (IS("TJ")) {
        if (last == OP_ARRAY)
            mark(st->current, array);
    } else if (IS("Tf")) {
        st->current = first_is_name ? font_codes(st, first_name) : NULL;
        if (first_is_name && st->current == NULL)
            return -1;
    } else if (IS("q")) {
        if (st->depth_saved == st->cap_saved) {
            Py_ssize_t cap = st->cap_saved ? st->cap_saved * 2 : 32;
            unsigned char **grown = PyMem_Realloc(st->saved, cap * sizeof(unsigned char *));
            if (grown == NULL) {
                PyErr_NoMemory();
                return -1;
            }
            st->saved = grown;
            st->cap_saved = cap;
        }
        st->saved[st->depth_saved++] = st->current;
    } else if (IS("Q")) {
        st->current = st->depth_saved > 0 ? st->saved[--st->depth_saved] : NULL;
    } else if (IS("Do")) {
        if (first_is_name) {
            PyObject *key =
                PyUnicode_DecodeLatin1((const char *)first_name->data, first_name->len, NULL);
            if (key == NULL || PyList_Append(st->forms, key) < 0) {
                Py_XDECREF(key);
                return -1;
            }
            Py_DECREF(key);
        }
    }
    return 0;
#undef IS
}

static int
scan(State *st, const unsigned char *s, Py_ssize_t n, Buffer *string, Buffer *array,
     Buffer *name, Buffer *first_name)
{
    char nested[MAX_NESTED];
    int depth = 0, too_deep = 0, last = OP_NONE, operands = 0, first_is_name = 0;
    Py_ssize_t at = 0;
    while (at < n) {
        unsigned char c = s[at];
        if (is_space(c)) {
            at++;
            continue;
        }
        if (c == '%') {
            while (at < n && s[at] != '\r' && s[at] != '\n')
                at++;
            continue;
        }
        /* a string, in an array shown by TJ (its top level) or as an operand */
        if (c == '(' || (c == '<' && !(at + 1 < n && s[at + 1] == '<'))) {
            string->len = 0;
            at = c == '(' ? literal_string(s, at + 1, n, string) : hex_string(s, at + 1, n, string);
            if (at < 0)
                return -1;
            if (depth == 1 && !too_deep && nested[0] == '[') {
                for (Py_ssize_t i = 0; i < string->len; i++)
                    if (buffer_put(array, string->data[i]) < 0)
                        return -1;
            } else if (depth == 0) {
                last = OP_STRING;
                operands++;
            }
            continue;
        }
        if (c == '[' || c == '<' || c == '{') {
            char kind = c == '<' ? 'd' : (char)c;
            at += c == '<' ? 2 : 1;
            if (depth == 0)
                array->len = 0;
            if (depth < MAX_NESTED)
                nested[depth] = kind;
            else
                too_deep++;
            depth++;
            continue;
        }
        if (c == ']' || c == '>' || c == '}') {
            at += (c == '>' && at + 1 < n && s[at + 1] == '>') ? 2 : 1;
            if (depth > 0) {
                depth--;
                if (too_deep > 0)
                    too_deep--;
                if (depth == 0) {
                    last = nested[0] == '[' ? OP_ARRAY : OP_OTHER;
                    operands++;
                }
            }
            continue;
        }
        if (c == ')') { /* an unbalanced parenthesis: nothing */
            at++;
            continue;
        }
        if (c == '/') {
            at = name_token(s, at + 1, n, name);
            if (at < 0)
                return -1;
            if (depth == 0) {
                if (operands == 0) {
                    first_is_name = 1;
                    first_name->len = 0;
                    for (Py_ssize_t i = 0; i < name->len; i++)
                        if (buffer_put(first_name, name->data[i]) < 0)
                            return -1;
                }
                last = OP_OTHER;
                operands++;
            }
            continue;
        }
        /* a regular token: a number, true/false/null, or an operator */
        Py_ssize_t start = at;
        while (at < n && !is_space(s[at]) && !is_delimiter(s[at]))
            at++;
        const unsigned char *token = s + start;
        Py_ssize_t len = at - start;
        if (depth > 0)
            continue;
        int number = token[0] == '+' || token[0] == '-' || token[0] == '.' ||
                     (token[0] >= '0' && token[0] <= '9');
        int keyword = (len == 4 && (memcmp(token, "true", 4) == 0 || memcmp(token, "null", 4) == 0)) ||
                      (len == 5 && memcmp(token, "false", 5) == 0);
        if (number || keyword) {
            last = OP_OTHER;
            operands++;
            continue;
        }
        if (operator(st, token, len, last, string, array, first_is_name, first_name) < 0)
            return -1;
        if (len == 2 && memcmp(token, "ID", 2) == 0)
            at = inline_image(s, at, n);
        last = OP_NONE;
        operands = 0;
        first_is_name = 0;
    }
    return 0;
}

/* shown(content) -> (fonts, forms): per font name the codes shown in it (bytes, ascending),
 * and the names Do draws, in order */
static PyObject *
content_shown(PyObject *module, PyObject *args)
{
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "y*", &data))
        return NULL;
    State st = {0};
    Buffer string = {0}, array = {0}, name = {0}, first_name = {0};
    PyObject *result = NULL;
    st.fonts = PyDict_New();
    st.forms = PyList_New(0);
    if (st.fonts != NULL && st.forms != NULL &&
        scan(&st, data.buf, data.len, &string, &array, &name, &first_name) == 0) {
        PyObject *codes = PyDict_New();
        PyObject *key, *flags;
        Py_ssize_t pos = 0;
        int failed = codes == NULL;
        while (!failed && PyDict_Next(st.fonts, &pos, &key, &flags)) {
            unsigned char list[256];
            Py_ssize_t count = 0;
            const unsigned char *f = (const unsigned char *)PyByteArray_AS_STRING(flags);
            for (int i = 0; i < 256; i++)
                if (f[i])
                    list[count++] = (unsigned char)i;
            PyObject *value = PyBytes_FromStringAndSize((const char *)list, count);
            failed = value == NULL || PyDict_SetItem(codes, key, value) < 0;
            Py_XDECREF(value);
        }
        if (!failed)
            result = PyTuple_Pack(2, codes, st.forms);
        Py_XDECREF(codes);
    }
    Py_XDECREF(st.fonts);
    Py_XDECREF(st.forms);
    PyMem_Free(st.saved);
    PyMem_Free(string.data);
    PyMem_Free(array.data);
    PyMem_Free(name.data);
    PyMem_Free(first_name.data);
    PyBuffer_Release(&data);
    return result;
}

static PyMethodDef methods[] = {
    {"shown", content_shown, METH_VARARGS,
     "Return (codes per font name, form names drawn) of a content stream."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_content", "The codes a PDF content stream shows (optional accelerator).",
    -1, methods,
};

PyMODINIT_FUNC
PyInit__content(void)
{
    return PyModule_Create(&module);
}
