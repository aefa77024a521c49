/// What a path names, as `lstat` sees it (symbolic links are not followed).
package enum FileKind: Sendable, Equatable {
    case regular
    case directory
    case symbolicLink
    case other
}

/// What ``FileSystem/metadata(of:)`` reports.
package struct FileMetadata: Sendable, Equatable {
    package let size: UInt64
    /// Modification time in nanoseconds since 1970.
    package let modified: Int64
}

/// An open file descriptor handed out by a ``FileSystem``.
package struct OpenFile: Sendable, Equatable {
    package let descriptor: Int32
    package let path: String

    package init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }
}

/// Every file-system call the library makes goes through this protocol, so tests can inject
/// crashes and faults (DESIGN.md, Durability). ``PosixFileSystem`` is the real one.
///
/// Errors are ``QueueError`` with code `fileSystem`, the path as the value and `errno`.
package protocol FileSystem: Sendable {
    /// What `path` is, or `nil` if nothing is there.
    func kind(of path: String) throws(QueueError) -> FileKind?
    /// Each entry of the directory `path`: its name's bytes and what it is; or `nil` when the
    /// directory's size (`st_size`) is over `limit` bytes or it cannot be listed: one listing in
    /// place of ``kind(of:)`` for each of many names in a small directory. A name not listed is
    /// not there.
    func entries(ofDirectory path: String, ifAtMost limit: Int) throws(QueueError) -> [(name: [UInt8], kind: FileKind)]?
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

    // Working relative to an open directory (DESIGN.md, Security: the final file is created
    // without following symbolic links).

    /// Opens the directory `path` (absolute) following no symbolic link in any component: each
    /// component is opened relative to the one before with `O_NOFOLLOW`, so a directory swapped
    /// for a link is refused, and a directory moved after it was opened is still the one used.
    func openDirectory(_ path: String) throws(QueueError) -> OpenFile
    /// Opens the entry `name` of the open `directory` for writing, as ``open(_:exclusive:)`` does
    /// (`O_NOFOLLOW`; with `exclusive`, created with mode 0600), relative to the descriptor.
    func open(_ name: String, in directory: OpenFile, exclusive: Bool) throws(QueueError) -> OpenFile
    /// Renames the entry `from` of the open `directory` to `to` in the same directory, atomically
    /// replacing `to` (`renameat`).
    func rename(_ from: String, to: String, in directory: OpenFile) throws(QueueError)
    /// Makes the entries of the open `directory` durable.
    func fsyncDirectory(_ directory: OpenFile) throws(QueueError)
    /// Bytes the calling process may still write on the file system holding the directory `path`
    /// (`statvfs`: available blocks times the fragment size).
    func freeSpace(inDirectory path: String) throws(QueueError) -> UInt64
    /// Sets the permission bits of the open file (`fchmod`).
    func setMode(_ file: OpenFile, _ mode: UInt32) throws(QueueError)
}

/// Permission bits of the files the library makes.
enum FileMode {
    /// What a new file would get from `open(…, 0666)` under the process's umask: the mode of a
    /// finished download. Temp files are 0600 until they are renamed into place.
    static var newFile: UInt32 { 0o666 & ~PosixFileSystem.creationMask }
}

/// Defaults for test doubles that wrap the real file system by path: the directory-relative calls
/// fall back to the path-based ones (so a double's faults and hooks still apply), a directory is
/// never listed (``FileSystem/kind(of:)`` is asked instead), and
/// ``FileSystem/openDirectory(_:)``, ``FileSystem/freeSpace(inDirectory:)`` and
/// ``FileSystem/setMode(_:_:)`` ask the real one.
/// ``PosixFileSystem`` implements every call itself.
extension FileSystem {
    /// Lists nothing, so a double's ``kind(of:)`` answers for every name.
    package func entries(ofDirectory path: String, ifAtMost limit: Int) throws(QueueError) -> [(name: [UInt8], kind: FileKind)]? { nil }

    package func openDirectory(_ path: String) throws(QueueError) -> OpenFile {
        try PosixFileSystem().openDirectory(path)
    }

    package func open(_ name: String, in directory: OpenFile, exclusive: Bool) throws(QueueError) -> OpenFile {
        try open(directory.path.appendingComponent(name), exclusive: exclusive)
    }

    package func rename(_ from: String, to: String, in directory: OpenFile) throws(QueueError) {
        try rename(directory.path.appendingComponent(from), to: directory.path.appendingComponent(to))
    }

    package func fsyncDirectory(_ directory: OpenFile) throws(QueueError) {
        try fsyncDirectory(directory.path)
    }

    package func freeSpace(inDirectory path: String) throws(QueueError) -> UInt64 {
        try PosixFileSystem().freeSpace(inDirectory: path)
    }

    package func setMode(_ file: OpenFile, _ mode: UInt32) throws(QueueError) {
        try PosixFileSystem().setMode(file, mode)
    }
}

extension FileSystem {
    /// Reads up to `buffer.count` bytes at `offset` into an array; returns how many were read.
    package func read(_ file: OpenFile, into buffer: inout [UInt8], at offset: UInt64) throws(QueueError) -> Int {
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
        guard let slash = utf8.lastIndex(of: UInt8(ascii: "/")), slash != startIndex else { return "/" }
        return String(self[..<slash])
    }

    /// The last component of a path (the whole string if it has no `/`). Paths split at the byte
    /// `/`, as the kernel splits them, never inside a character.
    var lastComponent: String {
        guard let slash = utf8.lastIndex(of: UInt8(ascii: "/")) else { return self }
        return String(self[utf8.index(after: slash)...])
    }

    /// This directory path joined with `name`.
    func appendingComponent(_ name: String) -> String {
        hasSuffix("/") ? self + name : self + "/" + name
    }
}
