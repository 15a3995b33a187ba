/*
 * Optional accelerator for generator/pdf/type1.py: the eexec cipher of Type 1 font
 * programs (Adobe Type 1 Font Format, ch. 7). Renumbering a font's /UniqueID and
 * pruning its glyphs decrypt and encrypt every byte of every embedded program, a
 * loop of some 40 ms per contract set in Python and about 1 ms here; and cutting a
 * decrypted program at its charstrings. type1.py falls back to its Python loops, which
 * give the same bytes, when this was not built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define EEXEC_C1 52845u
#define EEXEC_C2 22719u
#define EEXEC_KEY 55665u

/* crypt(data, decrypt) -> bytes: the whole eexec section en- or decrypted from the start key */
static PyObject *
eexec_crypt(PyObject *module, PyObject *args)
{
    Py_buffer data;
    int decrypt;
    if (!PyArg_ParseTuple(args, "y*p", &data, &decrypt))
        return NULL;
    PyObject *result = PyBytes_FromStringAndSize(NULL, data.len);
    if (result != NULL) {
        const unsigned char *in = data.buf;
        unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
        unsigned int r = EEXEC_KEY;
        for (Py_ssize_t i = 0; i < data.len; i++) {
            out[i] = in[i] ^ (unsigned char)(r >> 8);
            /* the key follows the ciphertext: the input when decrypting, the output otherwise */
            r = (((decrypt ? in[i] : out[i]) + r) * EEXEC_C1 + EEXEC_C2) & 0xFFFFu;
        }
    }
    PyBuffer_Release(&data);
    return result;
}

static int
is_space(unsigned char c)
{
    /* what \S of a bytes pattern leaves out */
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * charstrings(plain, at) -> (glyphs, at): the charstrings of a decrypted Private part as
 * LibreOffice writes them, "/name len RD <len bytes> ND\n" one after the other from
 * ``at`` up to "end end"; each glyph as (name, its whole entry). What type1._parse's loop
 * gives; ValueError with the same message where it would raise one.
 */
static PyObject *
eexec_charstrings(PyObject *module, PyObject *args)
{
    Py_buffer data;
    Py_ssize_t at;
    if (!PyArg_ParseTuple(args, "y*n", &data, &at))
        return NULL;
    const unsigned char *p = data.buf;
    const Py_ssize_t n = data.len;
    PyObject *glyphs = PyList_New(0);
    if (glyphs == NULL)
        goto fail;
    while (!(at >= 0 && at + 7 <= n && memcmp(p + at, "end end", 7) == 0)) {
        Py_ssize_t i = at, name_start, name_end, end;
        unsigned long long length = 0;
        int digits = 0;
        if (at < 0 || i >= n || p[i] != '/')
            goto refused;
        name_start = ++i;
        while (i < n && !is_space(p[i]))
            i++;
        name_end = i;
        if (name_end == name_start || i >= n || p[i] != ' ')
            goto refused;
        i++;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            if (length < (1ull << 40))
                length = length * 10 + (unsigned long long)(p[i] - '0');
            digits++;
            i++;
        }
        if (digits == 0 || i + 4 > n || memcmp(p + i, " RD ", 4) != 0)
            goto refused;
        i += 4;
        if (length > (unsigned long long)(n - i))
            goto refused;
        end = i + (Py_ssize_t)length;
        if (end + 4 > n || memcmp(p + end, " ND\n", 4) != 0)
            goto refused;
        PyObject *glyph = Py_BuildValue(
            "(y#y#)", p + name_start, name_end - name_start, p + at, end + 4 - at
        );
        if (glyph == NULL || PyList_Append(glyphs, glyph) < 0) {
            Py_XDECREF(glyph);
            goto fail;
        }
        Py_DECREF(glyph);
        at = end + 4;
    }
    PyBuffer_Release(&data);
    PyObject *result = Py_BuildValue("(Nn)", glyphs, at);
    return result;
refused:
    PyErr_Format(
        PyExc_ValueError, "a Type 1 charstring not written as LibreOffice does, at %zd", at
    );
fail:
    Py_XDECREF(glyphs);
    PyBuffer_Release(&data);
    return NULL;
}

static PyMethodDef methods[] = {
    {"crypt", eexec_crypt, METH_VARARGS, "Return an eexec section en- or decrypted (decrypt=True)."},
    {"charstrings", eexec_charstrings, METH_VARARGS,
     "Return the charstrings of a decrypted Private part, and where they end."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_eexec", "Type 1 eexec re-encryption (optional accelerator).", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__eexec(void)
{
    return PyModule_Create(&module);
}
