extension QueueManager {
    /// How hard each commit works to survive power loss.
    public enum Durability: Sendable, Hashable {
        /// `synchronous=FULL` (the default): every call that returned survives power loss.
        case full
        /// `synchronous=NORMAL`: faster commits; on power loss (not on a crash of the process) the
        /// last few committed calls may be lost. The database is never corrupted either way.
        case relaxed
    }

    /// Settings fixed when a queue is opened.
    public struct Configuration: Sendable {
        /// Commit durability; `.full` by default.
        public var durability: Durability = .full
        /// URL schemes files may be fetched from (lowercase); `http`, `https` and `file` by default.
        /// Absolute paths as remote names count as `file`.
        public var allowedSchemes: Set<String> = ["http", "https", "file"]
        /// If not empty, every local path must lie under one of these absolute directories.
        public var allowedRoots: [String] = []
        /// The smallest retry delay a group may set; 5 seconds by default (BITS' minimum).
        public var minimumRetryDelay: Duration = .seconds(5)
        /// How long a call waits for another process's write transaction before it fails; 5 s by default.
        public var busyTimeout: Duration = .seconds(5)
        /// The SQLite VFS to open the database with; `nil` for SQLite's default. For fault injection.
        public var sqliteVFS: String?

        /// The default configuration.
        public init() {}
    }
}
