#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Only one engine may run per database: an exclusive `flock` on `<database>-engine.lock`,
/// released when the engine stops or its process dies.
struct EngineLock: ~Copyable {
    private let descriptor: Int32

    /// Takes the lock, or throws `invalidState` if another engine (in any process) holds it.
    init(database: String) throws(QueueError) {
        let path = database + "-engine.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw PosixFileSystem.failure("open engine lock", path, errno) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK {
                throw QueueError(.invalidState, "another transfer engine is already running on \(database)", value: database)
            }
            throw PosixFileSystem.failure("lock", path, code)
        }
        descriptor = fd
    }

    /// Whether no engine holds the lock right now (taken and released at once).
    static func isFree(database: String) -> Bool {
        (try? EngineLock(database: database)) != nil  // failing to take it is the answer: held
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
