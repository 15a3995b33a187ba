/*
 * Optional accelerator for generator/pdfdoc.py: re-encrypting a Type 1 font's
 * eexec section after its /UniqueID changed (Adobe Type 1 Font Format, ch. 7).
 *
 * The cipher chains through the ciphertext, so everything after the edit must be
 * decrypted with the old key sequence and encrypted again with the new one: a
 * loop over every byte of every embedded font, about 45 ms per contract set in
 * pure Python and well under one here. The same goes for decrypting and
 * encrypting a whole section, which pruning a document's font subsets needs. pdfdoc falls back to its Python loop,
 * which gives the same bytes, when this module was not built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define EEXEC_C1 52845u
#define EEXEC_C2 22719u
#define EEXEC_KEY 55665u

/* reencrypt_from(cipher, start, replacement) -> bytes: see pdfdoc._reencrypt_from */
static PyObject *
reencrypt_from(PyObject *module, PyObject *args)
{
    Py_buffer cipher, replacement;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "y*ny*", &cipher, &start, &replacement))
        return NULL;
    PyObject *result = NULL;
    const unsigned char *c = cipher.buf;
    const unsigned char *p = replacement.buf;
    if (start < 0 || start + replacement.len > cipher.len) {
        PyErr_SetString(PyExc_ValueError, "the replacement does not fit in the cipher");
        goto done;
    }
    result = PyBytes_FromStringAndSize(NULL, cipher.len - start);
    if (result == NULL)
        goto done;
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    unsigned int r = EEXEC_KEY, s;
    Py_ssize_t i = 0;
    for (; i < start; i++)
        r = ((c[i] + r) * EEXEC_C1 + EEXEC_C2) & 0xFFFFu;
    s = r;
    Py_ssize_t n = 0;
    for (; n < replacement.len; n++, i++) {
        /* r follows the old ciphertext, s the new one */
        r = ((c[i] + r) * EEXEC_C1 + EEXEC_C2) & 0xFFFFu;
        unsigned char e = p[n] ^ (unsigned char)(s >> 8);
        out[n] = e;
        s = ((e + s) * EEXEC_C1 + EEXEC_C2) & 0xFFFFu;
    }
    for (; i < cipher.len; i++, n++) {
        unsigned char e = c[i] ^ (unsigned char)((r ^ s) >> 8);
        r = ((c[i] + r) * EEXEC_C1 + EEXEC_C2) & 0xFFFFu;
        out[n] = e;
        s = ((e + s) * EEXEC_C1 + EEXEC_C2) & 0xFFFFu;
    }
done:
    PyBuffer_Release(&cipher);
    PyBuffer_Release(&replacement);
    return result;
}

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

static PyMethodDef methods[] = {
    {"crypt", eexec_crypt, METH_VARARGS, "Return an eexec section en- or decrypted (decrypt=True)."},
    {"reencrypt_from", reencrypt_from, METH_VARARGS,
     "Return cipher[start:] re-encrypted with its first plaintext bytes replaced."},
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
