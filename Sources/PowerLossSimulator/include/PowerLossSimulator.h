#ifndef BACKGROUNDCOPY_POWER_LOSS_SIMULATOR_H
#define BACKGROUNDCOPY_POWER_LOSS_SIMULATOR_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

/// The power-loss simulator of BackgroundCopy's crash harness (test-only, never a product).
///
/// Two front ends feed one ordered log: a SQLite VFS named "bgcopy-powerloss" that wraps the
/// default VFS, and the data-file calls below (the crash harness's FileSystem seam calls them).
/// Every write and truncate goes to the real file at once and is also logged as *unsynced* until
/// the file is synced; every create, rename and unlink is logged until its directory is synced.
/// Each sync, rename, unlink and directory sync is a *durability point*, counted.
///
/// Modes:
/// - power loss at point N: the N-th durability point does not happen; from then on every
///   mutating call fails; `pls_materialize` then writes the state the disk would show after the
///   power came back: the synced content, plus each unsynced write independently kept, dropped or
///   garbled inside its range, plus each unsynced create/rename/unlink independently kept or lost.
/// - kill at N: the N-th mutating call (write, truncate, sync, create, rename, unlink) sends
///   SIGKILL to the process before it happens.
/// - fault: the N-th call of a class fails (once, or from then on), as SQLITE_IOERR / SQLITE_FULL
///   on the database or EIO / ENOSPC on data files.
///
/// Only files under the trial's root directory are tracked; real fsyncs are not issued (the
/// simulator decides what is durable), so a trial costs no disk flushes.

enum {
    PLS_MODE_NONE = 0,
    PLS_MODE_POWER_LOSS = 1,
    PLS_MODE_KILL = 2,
    PLS_MODE_FAULT = 3,
};

enum {
    /// Database writes and syncs fail with SQLITE_IOERR_WRITE / SQLITE_IOERR_FSYNC.
    PLS_FAULT_DB_IOERR = 1,
    /// Database writes fail with SQLITE_FULL.
    PLS_FAULT_DB_FULL = 2,
    /// Data-file fsyncs fail with EIO.
    PLS_FAULT_DATA_EIO = 3,
    /// Data-file writes fail with ENOSPC.
    PLS_FAULT_DATA_ENOSPC = 4,
};

/// Registers the VFS "bgcopy-powerloss" (once; later calls do nothing). Returns a SQLite result code.
int pls_register_vfs(void);

/// Starts a trial: forgets every tracked file and the log; tracks files under `root`.
/// `at` is the point (power loss, kill) or the call number (fault) to act on; 0 never acts.
void pls_reset(const char *root, int mode, int64_t at, uint64_t seed, int fault_kind, int persistent);
/// Stops acting (faults end, power stays on); the log keeps being kept.
void pls_heal(void);
/// Starts acting from now on, in the trial already under way (its tracked files and log stay):
/// `at` counts from this call. The simulator is safe to call from several threads.
void pls_arm(int mode, int64_t at, int fault_kind, int persistent);

/// Durability points counted so far in this trial.
int64_t pls_points(void);
/// Mutating calls counted so far in this trial.
int64_t pls_mutations(void);
/// Faults injected so far in this trial.
int64_t pls_faults(void);
/// Whether the power was lost in this trial.
int pls_power_lost(void);

/// After a power loss, with every descriptor closed: rewrites the tracked files as the disk
/// would show them when the power comes back. Returns 0, or -errno.
int pls_materialize(void);

/// Data-file calls: each does the real system call (but fsync) and logs it. They return the
/// descriptor or 0 on success, -errno on failure (EIO for everything after a power loss).
int pls_open(const char *path, int exclusive);
int pls_pwrite(int fd, const void *bytes, size_t count, int64_t offset);
int pls_fsync(int fd);
int pls_ftruncate(int fd, int64_t size);
int pls_close(int fd);
int pls_rename(const char *from, const char *to);
int pls_unlink(const char *path);
int pls_fsync_directory(const char *path);

#endif
