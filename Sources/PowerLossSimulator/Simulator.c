#define _GNU_SOURCE
#include "Simulator.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    unsigned char *bytes;
    size_t size;
} Content;

typedef struct {
    char *path;
    int inode;
} Name;

typedef struct {
    Name *items;
    size_t count, capacity;
} Names;

enum { OP_WRITE, OP_TRUNCATE, OP_CREATE, OP_RENAME, OP_UNLINK };

typedef struct {
    int kind;
    int inode;
    int64_t offset;
    unsigned char *bytes;
    size_t count;
    char *path, *path2;
} Op;

static struct {
    char *root;
    size_t rootLength;
    int mode, faultKind, persistent, dead, powerLost;
    int64_t at, points, mutations, faultCalls, faults;
    uint64_t rng;
    Content *durable;     /* per inode: the synced content */
    size_t inodes, inodeCapacity;
    Names current, synced; /* names now, and names that survive a power loss */
    Op *ops;              /* unsynced changes, in order */
    size_t opCount, opCapacity;
    int fds[4096];        /* data-file descriptor -> inode + 1 */
} S;

/* One lock around the simulator's state: a live engine calls in from several threads at once. */
#ifdef PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
#else
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER;
#endif
static void release(int *unused) { (void)unused; pthread_mutex_unlock(&lock); }
#define GUARDED pthread_mutex_lock(&lock); int guard __attribute__((cleanup(release), unused)) = 0

static uint64_t next_random(void) {
    uint64_t z = (S.rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static char *copy_string(const char *s) { return s ? strdup(s) : NULL; }

static void names_clear(Names *names) {
    for (size_t i = 0; i < names->count; i++) free(names->items[i].path);
    free(names->items);
    memset(names, 0, sizeof *names);
}

static Name *names_find(Names *names, const char *path) {
    for (size_t i = 0; i < names->count; i++)
        if (strcmp(names->items[i].path, path) == 0) return &names->items[i];
    return NULL;
}

static void names_set(Names *names, const char *path, int inode) {
    Name *found = names_find(names, path);
    if (found) { found->inode = inode; return; }
    if (names->count == names->capacity) {
        names->capacity = names->capacity ? names->capacity * 2 : 16;
        names->items = realloc(names->items, names->capacity * sizeof(Name));
    }
    names->items[names->count++] = (Name){ copy_string(path), inode };
}

static void names_remove(Names *names, const char *path) {
    Name *found = names_find(names, path);
    if (!found) return;
    free(found->path);
    *found = names->items[--names->count];
}

static void names_copy(Names *to, const Names *from) {
    for (size_t i = 0; i < from->count; i++) names_set(to, from->items[i].path, from->items[i].inode);
}

static void op_free(Op *op) {
    free(op->bytes);
    free(op->path);
    free(op->path2);
}

static void log_op(Op op) {
    if (S.opCount == S.opCapacity) {
        S.opCapacity = S.opCapacity ? S.opCapacity * 2 : 256;
        S.ops = realloc(S.ops, S.opCapacity * sizeof(Op));
    }
    S.ops[S.opCount++] = op;
}

static void content_write(Content *content, int64_t offset, const unsigned char *bytes, size_t count) {
    size_t end = (size_t)offset + count;
    if (end > content->size) {
        content->bytes = realloc(content->bytes, end);
        memset(content->bytes + content->size, 0, end - content->size);
        content->size = end;
    }
    memcpy(content->bytes + offset, bytes, count);
}

static void content_truncate(Content *content, int64_t size) {
    if ((size_t)size > content->size) {
        content->bytes = realloc(content->bytes, (size_t)size);
        memset(content->bytes + content->size, 0, (size_t)size - content->size);
    }
    content->size = (size_t)size;
}

static int new_inode(const unsigned char *bytes, size_t size) {
    if (S.inodes == S.inodeCapacity) {
        S.inodeCapacity = S.inodeCapacity ? S.inodeCapacity * 2 : 16;
        S.durable = realloc(S.durable, S.inodeCapacity * sizeof(Content));
    }
    Content content = { NULL, 0 };
    if (size) content_write(&content, 0, bytes, size);
    S.durable[S.inodes] = content;
    return (int)S.inodes++;
}

static char *parent_of(const char *path) {
    char *parent = strdup(path);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) *slash = 0; else strcpy(parent, "/");
    return parent;
}

static int in_directory(const char *path, const char *dir) {
    if (!path) return 0;
    char *parent = parent_of(path);
    int same = strcmp(parent, dir) == 0;
    free(parent);
    return same;
}

void pls_reset(const char *root, int mode, int64_t at, uint64_t seed, int fault_kind, int persistent) {
    GUARDED;
    free(S.root);
    for (size_t i = 0; i < S.inodes; i++) free(S.durable[i].bytes);
    free(S.durable);
    for (size_t i = 0; i < S.opCount; i++) op_free(&S.ops[i]);
    free(S.ops);
    names_clear(&S.current);
    names_clear(&S.synced);
    memset(&S, 0, sizeof S);
    S.root = copy_string(root);
    S.rootLength = root ? strlen(root) : 0;
    S.mode = mode;
    S.at = at;
    S.rng = seed * 0x2545F4914F6CDD1Dull + 1;
    S.faultKind = fault_kind;
    S.persistent = persistent;
}

void pls_heal(void) {
    GUARDED;
    S.mode = PLS_MODE_NONE;
}

void pls_arm(int mode, int64_t at, int fault_kind, int persistent) {
    GUARDED;
    S.mode = mode;
    S.at = at;
    S.faultKind = fault_kind;
    S.persistent = persistent;
    S.faultCalls = 0;
}
int64_t pls_points(void) { return S.points; }
int64_t pls_mutations(void) { return S.mutations; }
int64_t pls_faults(void) { return S.faults; }
int pls_power_lost(void) { return S.powerLost; }
int sim_dead(void) { return S.dead; }

int sim_tracked(const char *path) {
    return S.root && path && strncmp(path, S.root, S.rootLength) == 0 && path[S.rootLength] == '/';
}

int sim_point(void) {
    GUARDED;
    if (S.dead) return 1;
    S.points++;
    if (S.mode == PLS_MODE_POWER_LOSS && S.points == S.at) {
        S.dead = 1;
        S.powerLost = 1;
        return 1;
    }
    return 0;
}

int sim_mutation(void) {
    GUARDED;
    if (S.dead) return 1;
    S.mutations++;
    if (S.mode == PLS_MODE_KILL && S.mutations == S.at) kill(getpid(), SIGKILL);
    return 0;
}

int sim_fault(int kind) {
    GUARDED;
    if (S.mode != PLS_MODE_FAULT || kind != S.faultKind) return 0;
    S.faultCalls++;
    if (S.faultCalls == S.at || (S.persistent && S.faultCalls > S.at)) {
        S.faults++;
        return 1;
    }
    return 0;
}

int sim_inode_for(const char *path, int create) {
    GUARDED;
    Name *name = names_find(&S.current, path);
    if (name) return name->inode;
    struct stat info;
    if (stat(path, &info) == 0) {
        /* Adopted: what is on disk before the trial touched it counts as durable. */
        unsigned char *bytes = malloc(info.st_size ? (size_t)info.st_size : 1);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t got = fd >= 0 ? pread(fd, bytes, (size_t)info.st_size, 0) : -1;
        if (fd >= 0) close(fd);
        int inode = new_inode(bytes, got > 0 ? (size_t)got : 0);
        free(bytes);
        names_set(&S.current, path, inode);
        names_set(&S.synced, path, inode);
        return inode;
    }
    return create ? sim_inode_created(path) : -1;
}

int sim_inode_created(const char *path) {
    GUARDED;
    int inode = new_inode(NULL, 0);
    names_set(&S.current, path, inode);
    log_op((Op){ .kind = OP_CREATE, .inode = inode, .path = copy_string(path) });
    return inode;
}

void sim_log_write(int inode, int64_t offset, const void *bytes, size_t count) {
    GUARDED;
    unsigned char *copy = malloc(count ? count : 1);
    memcpy(copy, bytes, count);
    log_op((Op){ .kind = OP_WRITE, .inode = inode, .offset = offset, .bytes = copy, .count = count });
}

void sim_log_truncate(int inode, int64_t size) {
    GUARDED;
    log_op((Op){ .kind = OP_TRUNCATE, .inode = inode, .offset = size });
}

void sim_sync_inode(int inode, int creation) {
    GUARDED;
    size_t kept = 0;
    for (size_t i = 0; i < S.opCount; i++) {
        Op *op = &S.ops[i];
        int mine = op->inode == inode;
        if (mine && op->kind == OP_WRITE) {
            content_write(&S.durable[inode], op->offset, op->bytes, op->count);
            op_free(op);
        } else if (mine && op->kind == OP_TRUNCATE) {
            content_truncate(&S.durable[inode], op->offset);
            op_free(op);
        } else if (mine && creation && op->kind == OP_CREATE) {
            names_set(&S.synced, op->path, inode);
            op_free(op);
        } else {
            S.ops[kept++] = *op;
        }
    }
    S.opCount = kept;
}

void sim_log_unlink(const char *path) {
    GUARDED;
    Name *name = names_find(&S.current, path);
    int inode = name ? name->inode : -1;
    names_remove(&S.current, path);
    log_op((Op){ .kind = OP_UNLINK, .inode = inode, .path = copy_string(path) });
}

void sim_log_rename(const char *from, const char *to) {
    GUARDED;
    Name *name = names_find(&S.current, from);
    if (!name) {
        sim_inode_for(from, 0);
        name = names_find(&S.current, from);
    }
    int inode = name ? name->inode : -1;
    names_remove(&S.current, from);
    if (inode >= 0) names_set(&S.current, to, inode);
    log_op((Op){ .kind = OP_RENAME, .inode = inode, .path = copy_string(from), .path2 = copy_string(to) });
}

static void apply_name_op(Names *names, const Op *op) {
    switch (op->kind) {
    case OP_CREATE:
        names_set(names, op->path, op->inode);
        break;
    case OP_UNLINK:
        names_remove(names, op->path);
        break;
    case OP_RENAME: {
        Name *name = names_find(names, op->path);
        if (!name) break;
        int inode = name->inode;
        names_remove(names, op->path);
        names_set(names, op->path2, inode);
        break;
    }
    }
}

void sim_sync_directory(const char *dir) {
    GUARDED;
    size_t kept = 0;
    for (size_t i = 0; i < S.opCount; i++) {
        Op *op = &S.ops[i];
        int isName = op->kind == OP_CREATE || op->kind == OP_RENAME || op->kind == OP_UNLINK;
        if (isName && (in_directory(op->path, dir) || in_directory(op->path2, dir))) {
            apply_name_op(&S.synced, op);
            op_free(op);
        } else {
            S.ops[kept++] = *op;
        }
    }
    S.opCount = kept;
}

static int write_file(const char *path, const Content *content) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -errno;
    size_t done = 0;
    while (done < content->size) {
        ssize_t n = pwrite(fd, content->bytes + done, content->size - done, (off_t)done);
        if (n <= 0) { int code = n < 0 ? errno : EIO; close(fd); return -code; }
        done += (size_t)n;
    }
    close(fd);
    return 0;
}

static void trace_state(void) {
    fprintf(stderr, "power-loss simulator: %lld points; synced names:\n", (long long)S.points);
    for (size_t i = 0; i < S.synced.count; i++)
        fprintf(stderr, "  %s -> inode %d (%zu bytes synced)\n", S.synced.items[i].path, S.synced.items[i].inode,
                S.durable[S.synced.items[i].inode].size);
    fprintf(stderr, "unsynced changes:\n");
    for (size_t i = 0; i < S.opCount; i++)
        fprintf(stderr, "  %s inode %d offset %lld count %zu %s %s\n",
                (const char *[]){ "write", "truncate", "create", "rename", "unlink" }[S.ops[i].kind], S.ops[i].inode,
                (long long)S.ops[i].offset, S.ops[i].count, S.ops[i].path ? S.ops[i].path : "", S.ops[i].path2 ? S.ops[i].path2 : "");
}

int pls_materialize(void) {
    GUARDED;
    if (getenv("BGCOPY_SIM_TRACE")) trace_state();
    Names final = { 0 };
    names_copy(&final, &S.synced);
    Content *image = calloc(S.inodes ? S.inodes : 1, sizeof(Content));
    for (size_t i = 0; i < S.inodes; i++)
        if (S.durable[i].size) content_write(&image[i], 0, S.durable[i].bytes, S.durable[i].size);
    for (size_t i = 0; i < S.opCount; i++) {
        const Op *op = &S.ops[i];
        uint64_t roll = next_random() % 10;
        if (op->kind == OP_WRITE) {
            if (roll < 4) continue; /* dropped */
            content_write(&image[op->inode], op->offset, op->bytes, op->count);
            if (roll >= 8 && op->count > 0) { /* garbled inside its range */
                size_t from = next_random() % op->count, length = 1 + next_random() % (op->count - from);
                for (size_t b = 0; b < length; b++) image[op->inode].bytes[op->offset + from + b] = (unsigned char)next_random();
            }
        } else if (op->kind == OP_TRUNCATE) {
            if (roll >= 5) content_truncate(&image[op->inode], op->offset);
        } else if (roll >= 5) {
            apply_name_op(&final, op);
        }
    }
    int result = 0;
    Names *all[] = { &S.current, &S.synced, &final };
    for (int n = 0; n < 3; n++)
        for (size_t i = 0; i < all[n]->count; i++) {
            const char *path = all[n]->items[i].path;
            if (unlink(path) != 0 && errno != ENOENT && !result) result = -errno;
            size_t length = strlen(path);
            if (length > 4 && strcmp(path + length - 4, "-wal") == 0) {
                /* The WAL index is shared memory: it never survives a power loss. */
                char *shm = strdup(path);
                strcpy(shm + length - 4, "-shm");
                unlink(shm);
                free(shm);
            }
        }
    for (size_t i = 0; i < S.opCount; i++) {
        if (S.ops[i].path) unlink(S.ops[i].path);
        if (S.ops[i].path2) unlink(S.ops[i].path2);
    }
    for (size_t i = 0; i < final.count && !result; i++)
        result = write_file(final.items[i].path, &image[final.items[i].inode]);
    for (size_t i = 0; i < S.inodes; i++) free(image[i].bytes);
    free(image);
    names_clear(&final);
    return result;
}
