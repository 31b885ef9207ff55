#ifndef CONVENE_CCURL_SHIM_H
#define CONVENE_CCURL_SHIM_H

// Swift cannot call C variadic functions, and `curl_easy_setopt` / `curl_easy_getinfo` are
// variadic. Each wrapper below fixes the type of the third argument, so Swift can call it.
// Use the wrapper whose argument kind matches the option (see the option's man page):
// a mismatch is undefined behaviour in C and is not caught by the compiler here.

#include <curl/curl.h>
#include <stddef.h>

// MARK: - Global state

/// `curl_global_init(CURL_GLOBAL_DEFAULT)`: the macro is not visible to Swift.
static inline CURLcode ccurl_global_init_default(void) {
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

/// Size of the buffer `CURLOPT_ERRORBUFFER` writes into.
static inline size_t ccurl_error_size(void) {
    return CURL_ERROR_SIZE;
}

// MARK: - curl_easy_setopt, one wrapper per argument kind

static inline CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/// For `CURLOPTTYPE_STRINGPOINT` options: libcurl copies the string (except for
/// `CURLOPT_POSTFIELDS`, which must not be used through this wrapper).
static inline CURLcode ccurl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

/// For `CURLOPTTYPE_OBJECTPOINT` / `CURLOPTTYPE_CBPOINT` options (data pointers, error buffer).
static inline CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// For `CURLOPTTYPE_SLISTPOINT` options (`CURLOPT_HTTPHEADER`, `CURLOPT_MAIL_RCPT`, `CURLOPT_RESOLVE`).
/// libcurl does not copy the list: keep it alive until the transfer is over.
static inline CURLcode ccurl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

/// For `CURLOPTTYPE_OFF_T` options (`CURLOPT_MAXFILESIZE_LARGE`, `CURLOPT_INFILESIZE_LARGE`, ...).
static inline CURLcode ccurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/// Sets the request body: libcurl copies `length` bytes (`CURLOPT_COPYPOSTFIELDS`), so the
/// caller's buffer need not outlive the call. `data` may be NULL when `length` is 0.
static inline CURLcode ccurl_setopt_copy_body(CURL *handle, const void *data, curl_off_t length) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, length);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_COPYPOSTFIELDS, (length > 0 && data) ? data : "");
}

// MARK: - Callbacks (function pointers)

static inline CURLcode ccurl_setopt_write_function(CURL *handle, curl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
}

static inline CURLcode ccurl_setopt_header_function(CURL *handle, curl_write_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
}

static inline CURLcode ccurl_setopt_read_function(CURL *handle, curl_read_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
}

static inline CURLcode ccurl_setopt_xferinfo_function(CURL *handle, curl_xferinfo_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

/// `CURLOPT_OPENSOCKETFUNCTION`: lets the caller inspect (and refuse) each address libcurl is
/// about to connect to. Return `CURL_SOCKET_BAD` (-1) to refuse.
static inline CURLcode ccurl_setopt_opensocket_function(CURL *handle, curl_opensocket_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, callback);
}

/// Byte offset of `addr` in `struct curl_sockaddr`; libcurl allocates room for a full
/// `sockaddr_in6` there, although the field is declared as a 16-byte `struct sockaddr`.
static inline size_t ccurl_sockaddr_addr_offset(void) {
    return offsetof(struct curl_sockaddr, addr);
}

// MARK: - curl_easy_getinfo, one wrapper per result kind

static inline CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode ccurl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode ccurl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// The string belongs to the handle and stays valid until the next transfer or cleanup:
/// copy it at once. It may be NULL.
static inline CURLcode ccurl_getinfo_string(CURL *handle, CURLINFO info, const char **value) {
    return curl_easy_getinfo(handle, info, value);
}

#endif
