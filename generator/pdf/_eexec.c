/*
 * Optional accelerator for generator/pdf/type1.py: the eexec cipher of Type 1 font
 * programs (Adobe Type 1 Font Format, ch. 7). Renumbering a font's /UniqueID and
 * pruning its glyphs decrypt and encrypt every byte of every embedded program, a
 * loop of some 40 ms per contract set in Python and about 1 ms here. type1.py falls
 * back to its Python loop, which gives the same bytes, when this was not built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

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

static PyMethodDef methods[] = {
    {"crypt", eexec_crypt, METH_VARARGS, "Return an eexec section en- or decrypted (decrypt=True)."},
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
