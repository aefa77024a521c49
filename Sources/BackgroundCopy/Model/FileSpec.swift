/// A file to add to a job (QMGR: FILESETINFO).
public struct FileSpec: Sendable, Hashable {
    /// Where to fetch from: an `http`, `https` or `file` URL (or another scheme the configuration
    /// allows), or an absolute path for a local copy. At most 2,200 characters, no credentials in it.
    public var remote: String
    /// Where to put the file: an absolute, resolved path (no symbolic link in it, the file itself
    /// included) whose directory exists and is writable.
    public var local: String
    /// The expected size in bytes, if known; used for progress until the server says.
    public var sizeHint: UInt64?
    /// The expected SHA-256 of the content as 64 hex digits; a mismatch fails the file.
    public var sha256: String?

    /// A file to fetch from `remote` to `local`.
    public init(remote: String, local: String, sizeHint: UInt64? = nil, sha256: String? = nil) {
        self.remote = remote
        self.local = local
        self.sizeHint = sizeHint
        self.sha256 = sha256
    }
}

/// One file of a job as it stands in the queue (QMGR: GetFile, plus BITS' per-file progress).
public struct FileInfo: Sendable, Hashable {
    /// Zero-based position in its job.
    public let index: Int
    /// The remote URL or path, as added.
    public let remote: String
    /// The absolute local path, as added.
    public let local: String
    /// The size hint given when the file was added.
    public let sizeHint: UInt64?
    /// The expected SHA-256 as 64 lowercase hex digits, if one was given.
    public let sha256: String?
    /// The file's state.
    public let state: FileState
    /// The total size once the server has said it; `nil` until then.
    public let bytesTotal: UInt64?
    /// Bytes durably transferred (committed checkpoints only).
    public let bytesDone: UInt64
}
