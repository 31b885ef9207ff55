#ifndef CONVENE_CLIBPQ_SHIM_H
#define CONVENE_CLIBPQ_SHIM_H

// Debian puts libpq-fe.h under postgresql/; Homebrew and most others put it on the include path.
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif
#include <poll.h>

#endif
