#ifndef BACKGROUNDCOPY_CSQLITE_SHIM_H
#define BACKGROUNDCOPY_CSQLITE_SHIM_H

#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast of -1 to a function pointer, which Swift cannot import.
static inline sqlite3_destructor_type bgcopy_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

/// sqlite3_db_config is variadic; this is its integer-flag form (enable/disable an option).
static inline int bgcopy_sqlite_db_config_flag(sqlite3 *db, int op, int value) {
    int current = 0;
    return sqlite3_db_config(db, op, value, &current);
}

#endif
