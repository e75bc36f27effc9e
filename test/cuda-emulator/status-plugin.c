/* A stand-in CUDA plugin for abi-version.test.ts, generated from NCOD_CUDA_FUNCTIONS: init and device_name succeed,
 * every other function fails with the ncod_cuda_status in $NCOD_FAKE_STATUS and the message "fake failure". It checks
 * the addon's side of the ABI (status → error code) without CUDA. */
#include <stdlib.h>
#include <string.h>

#include "ncod_cuda_abi.h"

static int fake_failure(char* err, size_t errlen) {
  const char* status = getenv("NCOD_FAKE_STATUS");
  if (err != NULL && errlen > 0) {
    strncpy(err, "fake failure", errlen - 1);
    err[errlen - 1] = '\0';
  }
  return status != NULL ? atoi(status) : NCOD_CUDA_INTERNAL_ERROR;
}

/* The return type picks the body: int functions report, void functions do nothing. */
#define FAKE_int(name, params) \
  static int fake_##name params { return fake_failure(err, errlen); }
#define FAKE_void(name, params) \
  static void fake_##name params {}
#define FAKE(ret, name, params, doc) FAKE_##ret(name, params)
NCOD_CUDA_FUNCTIONS(FAKE)

static int ok_init(char* err, size_t errlen) {
  (void)err, (void)errlen;
  return NCOD_CUDA_OK;
}

static int ok_device_name(char* out, size_t outlen, char* err, size_t errlen) {
  (void)err, (void)errlen;
  strncpy(out, "fake device", outlen - 1);
  out[outlen - 1] = '\0';
  return NCOD_CUDA_OK;
}

const ncod_cuda_api* ncod_cuda_get_api(int requested_version) {
  static ncod_cuda_api api = {
      NCOD_CUDA_ABI_VERSION,
#define FAKE_ENTRY(ret, name, params, doc) &fake_##name,
      NCOD_CUDA_FUNCTIONS(FAKE_ENTRY)};
  api.init = ok_init;
  api.device_name = ok_device_name;
  return requested_version == NCOD_CUDA_ABI_VERSION ? &api : NULL;
}
