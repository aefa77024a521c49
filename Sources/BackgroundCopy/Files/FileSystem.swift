/// What a path names, as `lstat` sees it (symbolic links are not followed).
enum FileKind: Sendable, Equatable {
    case regular
    case directory
    case symbolicLink
    case other
}

/// What ``FileSystem/metadata(of:)`` reports.
struct FileMetadata: Sendable, Equatable {
    let size: UInt64
    /// Modification time in nanoseconds since 1970.
    let modified: Int64
}

/// An open file descriptor handed out by a ``FileSystem``.
struct OpenFile: Sendable, Equatable {
    let descriptor: Int32
    let path: String
}

/// Every file-system call the library makes goes through this protocol, so tests can inject
/// crashes and faults (DESIGN.md, Durability). ``PosixFileSystem`` is the real one.
///
/// Errors are ``QueueError`` with code `fileSystem`, the path as the value and `errno`.
protocol FileSystem: Sendable {
    /// What `path` is, or `nil` if nothing is there.
    func kind(of path: String) throws(QueueError) -> FileKind?
    /// The absolute path with every symbolic link resolved (`realpath`), or `nil` if it does not exist.
    func resolve(_ path: String) throws(QueueError) -> String?
    /// Whether the calling process may create files in the directory `path`.
    func isWritableDirectory(_ path: String) -> Bool
    /// Opens `path` for writing without following a symbolic link; with `exclusive`, creates it
    /// (mode 0600) and fails if anything is there, else opens an existing regular file.
    func open(_ path: String, exclusive: Bool) throws(QueueError) -> OpenFile
    /// Opens an existing file for reading, without following a symbolic link.
    func openForReading(_ path: String) throws(QueueError) -> OpenFile
    /// Writes all of `bytes` at `offset`.
    func write(_ file: OpenFile, _ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(QueueError)
    /// Reads up to `count` bytes at `offset` into `buffer`; returns how many were read (0 at the end).
    func read(_ file: OpenFile, into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(QueueError) -> Int
    /// Makes the file's data durable.
    func fsync(_ file: OpenFile) throws(QueueError)
    /// Closes the descriptor.
    func close(_ file: OpenFile)
    /// Sets the length of the open file.
    func truncate(_ file: OpenFile, to size: UInt64) throws(QueueError)
    /// Size and modification time of the file at `path` (not following a symbolic link), or `nil`
    /// if nothing is there.
    func metadata(of path: String) throws(QueueError) -> FileMetadata?
    /// Renames `from` to `to` atomically, replacing `to`.
    func rename(_ from: String, to: String) throws(QueueError)
    /// Removes `path`; succeeds if it is already gone.
    func unlink(_ path: String) throws(QueueError)
    /// Makes the entries of the directory `path` durable (creates, renames, unlinks in it).
    func fsyncDirectory(_ path: String) throws(QueueError)
}

extension FileSystem {
    /// Reads up to `buffer.count` bytes at `offset` into an array; returns how many were read.
    func read(_ file: OpenFile, into buffer: inout [UInt8], at offset: UInt64) throws(QueueError) -> Int {
        var outcome: Result<Int, QueueError> = .success(0)
        buffer.withUnsafeMutableBytes { raw in
            do throws(QueueError) {
                outcome = .success(try read(file, into: raw, at: offset))
            } catch {
                outcome = .failure(error)
            }
        }
        return try outcome.get()
    }
}

extension String {
    /// The directory part of an absolute path (`/` for a file at the root).
    var parentDirectory: String {
        guard let slash = lastIndex(of: "/"), slash != startIndex else { return "/" }
        return String(self[..<slash])
    }
}
