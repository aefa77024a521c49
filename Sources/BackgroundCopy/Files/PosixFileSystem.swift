import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The real file system, through POSIX calls. Interrupted calls (`EINTR`) are retried; nothing else is.
package struct PosixFileSystem: FileSystem {
    package init() {}

    package func kind(of path: String) throws(QueueError) -> FileKind? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw PosixFileSystem.failure("inspect", path, code)
        }
        return Self.kind(ofMode: info.st_mode)
    }

    private static func kind(ofMode mode: mode_t) -> FileKind {
        switch mode & S_IFMT {
        case S_IFREG: .regular
        case S_IFDIR: .directory
        case S_IFLNK: .symbolicLink
        default: .other
        }
    }

    package func entries(ofDirectory path: String, ifAtMost limit: Int) throws(QueueError) -> [(name: [UInt8], kind: FileKind)]? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR, Int(info.st_size) <= limit,
            let directory = opendir(path)
        else { return nil }
        defer { closedir(directory) }
        var entries: [(name: [UInt8], kind: FileKind)] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else { break }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG): entries.append((name, .regular))
            case Int32(DT_DIR): entries.append((name, .directory))
            case Int32(DT_LNK): entries.append((name, .symbolicLink))
            case Int32(DT_UNKNOWN):
                // Some file systems do not say: ask the entry itself (gone since listed: not there).
                var entryInfo = stat()
                let found = withUnsafePointer(to: entry.pointee.d_name) { name in
                    name.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: name.pointee)) {
                        fstatat(dirfd(directory), $0, &entryInfo, AT_SYMLINK_NOFOLLOW) == 0
                    }
                }
                if found { entries.append((name, Self.kind(ofMode: entryInfo.st_mode))) }
            default: entries.append((name, .other))
            }
        }
        // A listing cut short by an error would report files missing that are there.
        return errno == 0 ? entries : nil
    }

    package func resolve(_ path: String) throws(QueueError) -> String? {
        guard let resolved = realpath(path, nil) else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw PosixFileSystem.failure("resolve", path, errno)
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    package func isWritableDirectory(_ path: String) -> Bool {
        access(path, W_OK | X_OK) == 0
    }

    package func open(_ path: String, exclusive: Bool) throws(QueueError) -> OpenFile {
        let flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | (exclusive ? O_CREAT | O_EXCL : 0)
        let fd = retrying { systemOpen(path, flags, 0o600) }
        guard fd >= 0 else { throw PosixFileSystem.failure(exclusive ? "create" : "open", path, errno) }
        return OpenFile(descriptor: fd, path: path)
    }

    package func openForReading(_ path: String) throws(QueueError) -> OpenFile {
        let fd = retrying { systemOpen(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0) }
        guard fd >= 0 else { throw PosixFileSystem.failure("open", path, errno) }
        return OpenFile(descriptor: fd, path: path)
    }

    package func write(_ file: OpenFile, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(QueueError) {
        var written = 0
        while written < bytes.count {
            let result = retrying {
                pwrite(file.descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(offset) + off_t(written))
            }
            guard result > 0 else { throw PosixFileSystem.failure("write", file.path, result == 0 ? EIO : errno) }
            written += result
        }
    }

    package func read(_ file: OpenFile, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(QueueError) -> Int {
        let result = retrying { pread(file.descriptor, buffer.baseAddress, buffer.count, off_t(offset)) }
        guard result >= 0 else { throw PosixFileSystem.failure("read", file.path, errno) }
        return result
    }

    package func fsync(_ file: OpenFile) throws(QueueError) {
        guard systemFsync(file.descriptor) == 0 else { throw PosixFileSystem.failure("fsync", file.path, errno) }
    }

    package func close(_ file: OpenFile) {
        _ = systemClose(file.descriptor)
    }

    package func truncate(_ file: OpenFile, to size: UInt64) throws(QueueError) {
        guard retrying({ ftruncate(file.descriptor, off_t(size)) }) == 0 else {
            throw PosixFileSystem.failure("truncate", file.path, errno)
        }
    }

    package func metadata(of path: String) throws(QueueError) -> FileMetadata? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw PosixFileSystem.failure("inspect", path, errno)
        }
        #if canImport(Darwin)
        let modified = Int64(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(info.st_mtimespec.tv_nsec)
        #else
        let modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        #endif
        return FileMetadata(size: UInt64(info.st_size), modified: modified)
    }

    package func rename(_ from: String, to: String) throws(QueueError) {
        guard systemRename(from, to) == 0 else { throw PosixFileSystem.failure("rename to \(to)", from, errno) }
    }

    package func unlink(_ path: String) throws(QueueError) {
        guard systemUnlink(path) == 0 || errno == ENOENT else { throw PosixFileSystem.failure("unlink", path, errno) }
    }

    package func fsyncDirectory(_ path: String) throws(QueueError) {
        let fd = retrying { systemOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) }
        guard fd >= 0 else { throw PosixFileSystem.failure("open directory", path, errno) }
        defer { _ = systemClose(fd) }
        guard systemFsync(fd) == 0 else { throw PosixFileSystem.failure("fsync directory", path, errno) }
    }

    package func openDirectory(_ path: String) throws(QueueError) -> OpenFile {
        guard path.hasPrefix("/") else { throw PosixFileSystem.failure("open directory", path, EINVAL) }
        let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
        var fd = retrying { systemOpen("/", flags, 0) }
        guard fd >= 0 else { throw PosixFileSystem.failure("open directory", "/", errno) }
        for component in path.split(separator: "/").map(String.init) {
            let parent = fd
            fd = retrying { openat(parent, component, flags) }
            let code = errno
            // Linux says ENOTDIR, others ELOOP, for a link opened with O_DIRECTORY | O_NOFOLLOW.
            var info = stat()
            let isLink = fd < 0 && fstatat(parent, component, &info, AT_SYMLINK_NOFOLLOW) == 0 && info.st_mode & S_IFMT == S_IFLNK
            _ = systemClose(parent)
            guard fd >= 0 else {
                if isLink {
                    throw QueueError(
                        .fileSystem, "directory \(path) passes through a symbolic link at \(component); no link is followed",
                        value: path, systemError: ELOOP)
                }
                throw PosixFileSystem.failure("open directory", path, code)
            }
        }
        return OpenFile(descriptor: fd, path: path)
    }

    package func open(_ name: String, in directory: OpenFile, exclusive: Bool) throws(QueueError) -> OpenFile {
        let flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | (exclusive ? O_CREAT | O_EXCL : 0)
        let path = directory.path.appendingComponent(name)
        let fd = retrying { openat(directory.descriptor, name, flags, 0o600) }
        guard fd >= 0 else { throw PosixFileSystem.failure(exclusive ? "create" : "open", path, errno) }
        return OpenFile(descriptor: fd, path: path)
    }

    package func rename(_ from: String, to: String, in directory: OpenFile) throws(QueueError) {
        guard renameat(directory.descriptor, from, directory.descriptor, to) == 0 else {
            throw PosixFileSystem.failure("rename to \(directory.path.appendingComponent(to))", directory.path.appendingComponent(from), errno)
        }
    }

    package func fsyncDirectory(_ directory: OpenFile) throws(QueueError) {
        guard systemFsync(directory.descriptor) == 0 else { throw PosixFileSystem.failure("fsync directory", directory.path, errno) }
    }

    package func freeSpace(inDirectory path: String) throws(QueueError) -> UInt64 {
        var info = statvfs()
        guard retrying({ statvfs(path, &info) }) == 0 else { throw PosixFileSystem.failure("inspect file system of", path, errno) }
        return UInt64(info.f_bavail) &* UInt64(info.f_frsize)
    }

    package func setMode(_ file: OpenFile, _ mode: UInt32) throws(QueueError) {
        guard retrying({ fchmod(file.descriptor, mode_t(mode)) }) == 0 else {
            throw PosixFileSystem.failure("change the mode of", file.path, errno)
        }
    }

    /// The process's umask, read once: from `/proc/self/status` where Linux gives it, else by
    /// setting and restoring it (a moment in which another thread's new file would get 022).
    static let creationMask: UInt32 = {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),  // no /proc: the umask is read below
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
            let mask = UInt32(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8)
        {
            return mask
        }
        let mask = umask(0o022)
        _ = umask(mask)
        return UInt32(mask)
    }()

    package static func failure(_ operation: String, _ path: String, _ code: Int32) -> QueueError {
        QueueError(.fileSystem, "\(operation) \(path) failed: \(String(cString: strerror(code)))", value: path, systemError: code)
    }
}

/// Repeats a system call while it fails with `EINTR`.
private func retrying<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
        let result = call()
        if result >= 0 || errno != EINTR { return result }
    }
}

// The C functions, reachable from inside the type whose methods share their names.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemFsync(_ fd: Int32) -> Int32 { fsync(fd) }
private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
private func systemUnlink(_ path: String) -> Int32 { unlink(path) }
