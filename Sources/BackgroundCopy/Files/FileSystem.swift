/// What a path names, as `lstat` sees it (symbolic links are not followed).
enum FileKind: Sendable, Equatable {
    case regular
    case directory
    case symbolicLink
    case other
}

/// Every file-system call the library makes goes through this protocol, so tests can inject
/// crashes and faults (DESIGN.md, Durability). ``PosixFileSystem`` is the real one.
///
/// Errors are ``QueueError`` with code `fileSystem`, the path as the value and `errno`.
protocol FileSystem: Sendable {
    /// What `path` is, or `nil` if nothing is there.
    func kind(of path: String) throws(QueueError) -> FileKind?
    /// Whether the calling process may create files in the directory `path`.
    func isWritableDirectory(_ path: String) -> Bool
    /// Renames `from` to `to` atomically, replacing `to`.
    func rename(_ from: String, to: String) throws(QueueError)
    /// Removes `path`; succeeds if it is already gone.
    func unlink(_ path: String) throws(QueueError)
    /// Makes the entries of the directory `path` durable (creates, renames, unlinks in it).
    func fsyncDirectory(_ path: String) throws(QueueError)
}
