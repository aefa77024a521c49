#include "Simulator.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Data-file descriptors and the inode each one writes to (+1; 0 means untracked). */
static int inodeOf[4096];

static int inode_of(int fd) {
    return fd >= 0 && fd < 4096 ? inodeOf[fd] - 1 : -1;
}

int pls_open(const char *path, int exclusive) {
    if (sim_tracked(path) && sim_mutation()) return -EIO;
    int flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | (exclusive ? O_CREAT | O_EXCL : 0);
    int fd = open(path, flags, 0600);
    if (fd < 0) return -errno;
    if (fd < 4096) inodeOf[fd] = !sim_tracked(path) ? 0 : (exclusive ? sim_inode_created(path) : sim_inode_for(path, 0)) + 1;
    return fd;
}

int pls_pwrite(int fd, const void *bytes, size_t count, int64_t offset) {
    int inode = inode_of(fd);
    if (inode >= 0 && sim_mutation()) return -EIO;
    if (inode >= 0 && sim_fault(PLS_FAULT_DATA_ENOSPC)) return -ENOSPC;
    size_t done = 0;
    while (done < count) {
        ssize_t n = pwrite(fd, (const char *)bytes + done, count - done, (off_t)(offset + (int64_t)done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -errno : -EIO;
        done += (size_t)n;
    }
    if (inode >= 0) sim_log_write(inode, offset, bytes, count);
    return 0;
}

int pls_fsync(int fd) {
    int inode = inode_of(fd);
    if (inode < 0) return fsync(fd) == 0 ? 0 : -errno;
    if (sim_mutation() || sim_point()) return -EIO;
    if (sim_fault(PLS_FAULT_DATA_EIO)) return -EIO;
    sim_sync_inode(inode, 0);
    return 0;
}

int pls_ftruncate(int fd, int64_t size) {
    int inode = inode_of(fd);
    if (inode >= 0 && sim_mutation()) return -EIO;
    if (ftruncate(fd, (off_t)size) != 0) return -errno;
    if (inode >= 0) sim_log_truncate(inode, size);
    return 0;
}

int pls_close(int fd) {
    if (fd >= 0 && fd < 4096) inodeOf[fd] = 0;
    return close(fd) == 0 ? 0 : -errno;
}

int pls_rename(const char *from, const char *to) {
    int tracked = sim_tracked(from) || sim_tracked(to);
    if (tracked && (sim_mutation() || sim_point())) return -EIO;
    if (tracked) sim_inode_for(from, 0);
    if (rename(from, to) != 0) return -errno;
    if (tracked) sim_log_rename(from, to);
    return 0;
}

int pls_unlink(const char *path) {
    int tracked = sim_tracked(path);
    if (tracked && (sim_mutation() || sim_point())) return -EIO;
    if (tracked) sim_inode_for(path, 0);
    if (unlink(path) != 0) return errno == ENOENT ? 0 : -errno;
    if (tracked) sim_log_unlink(path);
    return 0;
}

int pls_fsync_directory(const char *path) {
    if (sim_mutation() || sim_point()) return -EIO;
    sim_sync_directory(path);
    return 0;
}
