import BackgroundCopy
import PowerLossSimulator
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The library's file-system seam over the power-loss simulator: every mutating call goes through
/// `pls_*` (logged, counted, faulted, or refused after the power went out); reads and inspections
/// go to the real file system. Workloads add their own hooks: a call before a rename (to cancel a
/// file while it is finalizing) and a byte budget per file (a disk that fills up mid-file).
final class SimulatedFileSystem: FileSystem {
    private let real = PosixFileSystem()
    private struct Hooks {
        var beforeRename: (@Sendable (String) -> Void)?
        var spaceLeft: [String: Int] = [:]
    }
    private let hooks = Mutex(Hooks())

    /// Runs `hook` with the destination path before every rename.
    func onRename(_ hook: (@Sendable (String) -> Void)?) {
        hooks.withLock { $0.beforeRename = hook }
    }

    /// Writes to the temp file of the file at `local` fail with ENOSPC once `bytes` more bytes were
    /// written to it; `nil` lifts the limit.
    func limitSpace(ofTempFor local: String, to bytes: Int?) {
        let slash = local.lastIndex(of: "/")!
        hooks.withLock { $0.spaceLeft["\(local[..<slash])/.\(local[local.index(after: slash)...])."] = bytes }
    }

    func kind(of path: String) throws(QueueError) -> FileKind? { try real.kind(of: path) }
    func resolve(_ path: String) throws(QueueError) -> String? { try real.resolve(path) }
    func isWritableDirectory(_ path: String) -> Bool { real.isWritableDirectory(path) }
    func openForReading(_ path: String) throws(QueueError) -> OpenFile { try real.openForReading(path) }
    func metadata(of path: String) throws(QueueError) -> FileMetadata? { try real.metadata(of: path) }

    func read(_ file: OpenFile, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(QueueError) -> Int {
        try real.read(file, into: buffer, at: offset)
    }

    func open(_ path: String, exclusive: Bool) throws(QueueError) -> OpenFile {
        let fd = pls_open(path, exclusive ? 1 : 0)
        guard fd >= 0 else { throw PosixFileSystem.failure(exclusive ? "create" : "open", path, -fd) }
        return OpenFile(descriptor: fd, path: path)
    }

    func write(_ file: OpenFile, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(QueueError) {
        let refused = hooks.withLock { hooks -> Bool in
            guard let (prefix, left) = hooks.spaceLeft.first(where: { file.path.hasPrefix($0.key) }) else { return false }
            guard left >= bytes.count else { return true }
            hooks.spaceLeft[prefix] = left - bytes.count
            return false
        }
        if refused { throw PosixFileSystem.failure("write", file.path, ENOSPC) }
        try check(pls_pwrite(file.descriptor, bytes.baseAddress, bytes.count, Int64(offset)), "write", file.path)
    }

    func fsync(_ file: OpenFile) throws(QueueError) {
        try check(pls_fsync(file.descriptor), "fsync", file.path)
    }

    func close(_ file: OpenFile) {
        _ = pls_close(file.descriptor)
    }

    func truncate(_ file: OpenFile, to size: UInt64) throws(QueueError) {
        try check(pls_ftruncate(file.descriptor, Int64(size)), "truncate", file.path)
    }

    func rename(_ from: String, to: String) throws(QueueError) {
        hooks.withLock { $0.beforeRename }?(to)
        try check(pls_rename(from, to), "rename to \(to)", from)
    }

    func unlink(_ path: String) throws(QueueError) {
        try check(pls_unlink(path), "unlink", path)
    }

    func fsyncDirectory(_ path: String) throws(QueueError) {
        try check(pls_fsync_directory(path), "fsync directory", path)
    }

    private func check(_ result: Int32, _ operation: String, _ path: String) throws(QueueError) {
        guard result >= 0 else { throw PosixFileSystem.failure(operation, path, -result) }
    }
}
