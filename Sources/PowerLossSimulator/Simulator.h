#ifndef BACKGROUNDCOPY_POWER_LOSS_SIMULATOR_INTERNAL_H
#define BACKGROUNDCOPY_POWER_LOSS_SIMULATOR_INTERNAL_H

#include "PowerLossSimulator.h"

/// What the VFS and the data-file calls share: the tracked files ("inodes"), the log, the counters.

/// Whether `path` lies under the trial's root.
int sim_tracked(const char *path);
/// The inode a tracked path names now; a file already on disk is adopted as durable.
/// With `create` and nothing there, a new empty inode is named and its creation logged.
int sim_inode_for(const char *path, int create);
/// Names a new empty inode at `path`, just created by the caller, and logs its creation.
int sim_inode_created(const char *path);
/// Logs a write or truncate of an inode (the real call has been made).
void sim_log_write(int inode, int64_t offset, const void *bytes, size_t count);
void sim_log_truncate(int inode, int64_t size);
/// Makes an inode's logged writes durable; with `creation`, its creation too (as SQLite's unix
/// VFS does for a new journal or WAL: it syncs the directory on the first sync).
void sim_sync_inode(int inode, int creation);
/// Logs an unlink / rename of tracked names (the real call has been made).
void sim_log_unlink(const char *path);
void sim_log_rename(const char *from, const char *to);
/// Makes the logged name changes in directory `dir` durable.
void sim_sync_directory(const char *dir);

/// A durability point: returns 1 if the call must not happen (the power is, or just went, out).
int sim_point(void);
/// A mutating call: returns 1 if the call must not happen (the power is out). May kill the process.
int sim_mutation(void);
/// Whether a call of fault class `kind` fails now.
int sim_fault(int kind);
/// Whether the power is out.
int sim_dead(void);

#endif
