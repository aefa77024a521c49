#include "Simulator.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A SQLite VFS that wraps the default one and feeds the simulator: the database and its WAL are
   tracked (their writes logged until synced); the shared-memory WAL index is not (it never
   survives a power loss). */

typedef struct {
    sqlite3_file base;
    sqlite3_file *real;
    int inode;      /* -1: not tracked */
    int journal;    /* a WAL or journal: its first sync also makes its creation durable */
} SimFile;

static sqlite3_vfs *realVFS;
static sqlite3_vfs simVFS;
static sqlite3_io_methods simMethods;

static int sim_close(sqlite3_file *file) {
    SimFile *f = (SimFile *)file;
    int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
    free(f->real);
    return rc;
}

static int sim_read(sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset) {
    SimFile *f = (SimFile *)file;
    return f->real->pMethods->xRead(f->real, buffer, amount, offset);
}

static int sim_write(sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset) {
    SimFile *f = (SimFile *)file;
    if (f->inode >= 0) {
        if (sim_mutation()) return SQLITE_IOERR_WRITE;
        if (sim_fault(PLS_FAULT_DB_FULL)) return SQLITE_FULL;
        if (sim_fault(PLS_FAULT_DB_IOERR)) return SQLITE_IOERR_WRITE;
    }
    int rc = f->real->pMethods->xWrite(f->real, buffer, amount, offset);
    if (rc == SQLITE_OK && f->inode >= 0) sim_log_write(f->inode, offset, buffer, (size_t)amount);
    return rc;
}

static int sim_truncate(sqlite3_file *file, sqlite3_int64 size) {
    SimFile *f = (SimFile *)file;
    if (f->inode >= 0 && sim_mutation()) return SQLITE_IOERR_TRUNCATE;
    int rc = f->real->pMethods->xTruncate(f->real, size);
    if (rc == SQLITE_OK && f->inode >= 0) sim_log_truncate(f->inode, size);
    return rc;
}

static int sim_sync(sqlite3_file *file, int flags) {
    SimFile *f = (SimFile *)file;
    if (f->inode < 0) return f->real->pMethods->xSync(f->real, flags);
    if (sim_mutation() || sim_point()) return SQLITE_IOERR_FSYNC;
    if (sim_fault(PLS_FAULT_DB_IOERR)) return SQLITE_IOERR_FSYNC;
    sim_sync_inode(f->inode, f->journal);
    return SQLITE_OK;
}

static int sim_file_size(sqlite3_file *file, sqlite3_int64 *size) {
    SimFile *f = (SimFile *)file;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int sim_lock(sqlite3_file *file, int lock) {
    SimFile *f = (SimFile *)file;
    return f->real->pMethods->xLock(f->real, lock);
}

static int sim_unlock(sqlite3_file *file, int lock) {
    SimFile *f = (SimFile *)file;
    return f->real->pMethods->xUnlock(f->real, lock);
}

static int sim_check_reserved_lock(sqlite3_file *file, int *out) {
    SimFile *f = (SimFile *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int sim_file_control(sqlite3_file *file, int op, void *arg) {
    SimFile *f = (SimFile *)file;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int sim_sector_size(sqlite3_file *file) {
    SimFile *f = (SimFile *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int sim_device_characteristics(sqlite3_file *file) {
    SimFile *f = (SimFile *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int sim_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out) {
    SimFile *f = (SimFile *)file;
    return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}

static int sim_shm_lock(sqlite3_file *file, int offset, int n, int flags) {
    SimFile *f = (SimFile *)file;
    return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

static void sim_shm_barrier(sqlite3_file *file) {
    SimFile *f = (SimFile *)file;
    f->real->pMethods->xShmBarrier(f->real);
}

static int sim_shm_unmap(sqlite3_file *file, int deleteFlag) {
    SimFile *f = (SimFile *)file;
    return f->real->pMethods->xShmUnmap(f->real, deleteFlag);
}

static int sim_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *outFlags) {
    (void)vfs;
    SimFile *f = (SimFile *)file;
    memset(f, 0, sizeof *f);
    f->inode = -1;
    int kind = flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL);
    int tracked = name && kind && sim_tracked(name);
    if (tracked && sim_dead()) return SQLITE_CANTOPEN;
    int existed = tracked && access(name, F_OK) == 0;
    if (tracked && !existed && (flags & SQLITE_OPEN_CREATE) && sim_mutation()) return SQLITE_CANTOPEN;
    f->real = calloc(1, (size_t)realVFS->szOsFile);
    int rc = realVFS->xOpen(realVFS, name, f->real, flags, outFlags);
    if (rc != SQLITE_OK) {
        free(f->real);
        f->real = NULL;
        return rc;
    }
    if (tracked) {
        f->inode = existed ? sim_inode_for(name, 0) : sim_inode_created(name);
        f->journal = (flags & (SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL)) != 0;
    }
    f->base.pMethods = &simMethods;
    return SQLITE_OK;
}

static int sim_delete(sqlite3_vfs *vfs, const char *name, int syncDirectory) {
    (void)vfs;
    int tracked = sim_tracked(name);
    if (tracked && (sim_mutation() || sim_point())) return SQLITE_IOERR_DELETE;
    if (tracked) sim_inode_for(name, 0);
    int rc = realVFS->xDelete(realVFS, name, 0);
    if (rc == SQLITE_OK && tracked) {
        sim_log_unlink(name);
        if (syncDirectory) {
            char *dir = strdup(name);
            char *slash = strrchr(dir, '/');
            if (slash && slash != dir) *slash = 0;
            sim_sync_directory(dir);
            free(dir);
        }
    }
    return rc;
}

static int sim_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return realVFS->xAccess(realVFS, name, flags, out);
}

static int sim_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return realVFS->xFullPathname(realVFS, name, size, out);
}

static void *sim_dl_open(sqlite3_vfs *vfs, const char *name) { (void)vfs; return realVFS->xDlOpen(realVFS, name); }
static void sim_dl_error(sqlite3_vfs *vfs, int n, char *out) { (void)vfs; realVFS->xDlError(realVFS, n, out); }
static void (*sim_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return realVFS->xDlSym(realVFS, handle, symbol);
}
static void sim_dl_close(sqlite3_vfs *vfs, void *handle) { (void)vfs; realVFS->xDlClose(realVFS, handle); }
static int sim_randomness(sqlite3_vfs *vfs, int n, char *out) { (void)vfs; return realVFS->xRandomness(realVFS, n, out); }
static int sim_sleep(sqlite3_vfs *vfs, int microseconds) { (void)vfs; return realVFS->xSleep(realVFS, microseconds); }
static int sim_current_time(sqlite3_vfs *vfs, double *out) { (void)vfs; return realVFS->xCurrentTime(realVFS, out); }
static int sim_get_last_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    return realVFS->xGetLastError ? realVFS->xGetLastError(realVFS, n, out) : 0;
}
static int sim_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    return realVFS->xCurrentTimeInt64(realVFS, out);
}

int pls_register_vfs(void) {
    if (realVFS) return SQLITE_OK;
    sqlite3_initialize();
    realVFS = sqlite3_vfs_find(NULL);
    if (!realVFS) return SQLITE_ERROR;
    simMethods = (sqlite3_io_methods){
        .iVersion = 2,
        .xClose = sim_close, .xRead = sim_read, .xWrite = sim_write, .xTruncate = sim_truncate,
        .xSync = sim_sync, .xFileSize = sim_file_size, .xLock = sim_lock, .xUnlock = sim_unlock,
        .xCheckReservedLock = sim_check_reserved_lock, .xFileControl = sim_file_control,
        .xSectorSize = sim_sector_size, .xDeviceCharacteristics = sim_device_characteristics,
        .xShmMap = sim_shm_map, .xShmLock = sim_shm_lock, .xShmBarrier = sim_shm_barrier,
        .xShmUnmap = sim_shm_unmap,
    };
    simVFS = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(SimFile),
        .mxPathname = realVFS->mxPathname,
        .zName = "bgcopy-powerloss",
        .xOpen = sim_open, .xDelete = sim_delete, .xAccess = sim_access, .xFullPathname = sim_full_pathname,
        .xDlOpen = sim_dl_open, .xDlError = sim_dl_error, .xDlSym = sim_dl_sym, .xDlClose = sim_dl_close,
        .xRandomness = sim_randomness, .xSleep = sim_sleep, .xCurrentTime = sim_current_time,
        .xGetLastError = sim_get_last_error, .xCurrentTimeInt64 = sim_current_time_int64,
    };
    return sqlite3_vfs_register(&simVFS, 0);
}
