#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The real file system, through POSIX calls.
struct PosixFileSystem: FileSystem {
    func kind(of path: String) throws(QueueError) -> FileKind? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw PosixFileSystem.failure("inspect", path, code)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        case S_IFLNK: return .symbolicLink
        default: return .other
        }
    }

    func isWritableDirectory(_ path: String) -> Bool {
        access(path, W_OK | X_OK) == 0
    }

    func rename(_ from: String, to: String) throws(QueueError) {
        guard systemRename(from, to) == 0 else { throw PosixFileSystem.failure("rename to \(to)", from, errno) }
    }

    func unlink(_ path: String) throws(QueueError) {
        guard systemUnlink(path) == 0 || errno == ENOENT else { throw PosixFileSystem.failure("unlink", path, errno) }
    }

    func fsyncDirectory(_ path: String) throws(QueueError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw PosixFileSystem.failure("open directory", path, errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw PosixFileSystem.failure("fsync directory", path, errno) }
    }

    static func failure(_ operation: String, _ path: String, _ code: Int32) -> QueueError {
        QueueError(.fileSystem, "\(operation) \(path) failed: \(String(cString: strerror(code)))", value: path, systemError: code)
    }
}

private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }

private func systemUnlink(_ path: String) -> Int32 { unlink(path) }
