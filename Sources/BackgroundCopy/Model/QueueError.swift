/// The one error every BackgroundCopy call throws.
///
/// ``code`` says what went wrong; ``value`` names the offending input (an ID, a path, a URL, a
/// property value) where there is one; ``message`` says it in a sentence. A call that throws has
/// changed nothing. ``hresult`` gives the QMGR/BITS result a ported caller would have checked.
///
/// ```swift
/// do {
///     let group = try manager.group(id)
/// } catch where error.code == .notFound {
///     // unknown or cancelled
/// }
/// ```
public struct QueueError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong. New codes may be added in later versions; switch with a `default`.
    public let code: Code
    /// A sentence naming the failing operation and the offending value.
    public let message: String
    /// The offending value itself (an ID, a path, a URL, a property value), when there is one.
    public let value: String?
    /// For `storage` errors: SQLite's extended result code.
    public let sqliteResultCode: Int32?
    /// For `storage` errors: the SQL statement that failed.
    public let sql: String?
    /// For `transfer` errors: the HTTP status the server answered, if any.
    public let httpStatus: Int?
    /// For `transfer` and file-system errors: the system error number (`errno`), if any.
    public let systemError: Int32?
    /// For `transfer` errors: whether retrying may help (network failures, timeouts, HTTP 5xx,
    /// 408, 429). Transient failures are retried after the group's retry delay until its
    /// no-progress timeout; all other failures put the group in error.
    public let isTransient: Bool
    /// For transient errors: how long the server asked to wait (HTTP `Retry-After`), if it did.
    public let retryAfter: Duration?

    /// Makes an error. Library code uses the static helpers; this is public so that a custom
    /// ``Transport`` can report its own failures (code `transfer`, with `isTransient` when a retry may help).
    public init(
        _ code: Code, _ message: String, value: String? = nil,
        sqliteResultCode: Int32? = nil, sql: String? = nil, httpStatus: Int? = nil, systemError: Int32? = nil,
        isTransient: Bool = false, retryAfter: Duration? = nil
    ) {
        self.code = code
        self.message = message
        self.value = value
        self.sqliteResultCode = sqliteResultCode
        self.sql = sql
        self.httpStatus = httpStatus
        self.systemError = systemError
        self.isTransient = isTransient
        self.retryAfter = retryAfter
    }

    /// `code: message`, with SQLite's result code and the SQL for storage errors.
    public var description: String {
        var text = "\(code): \(message)"
        if let sqliteResultCode { text += " (SQLite \(sqliteResultCode))" }
        if let sql { text += " [SQL: \(sql)]" }
        return text
    }
}

extension QueueError {
    /// An error code: what kind of thing went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        init(_ name: String) { self.name = name }

        /// The code's name, e.g. `notFound`.
        public var description: String { name }

        /// No live group, job or file has that ID or index (unknown, or cancelled). QMGR: QM_E_ITEM_NOT_FOUND.
        public static let notFound = Code("notFound")
        /// The ID is taken by a live or cancelled group or job. QMGR: E_INVALIDARG from CreateGroup.
        public static let alreadyExists = Code("alreadyExists")
        /// The operation is not allowed in the object's current state. QMGR: QM_E_INVALID_STATE.
        public static let invalidState = Code("invalidState")
        /// An input was rejected by validation; ``QueueError/value`` names it. QMGR: E_INVALIDARG.
        public static let invalidArgument = Code("invalidArgument")
        /// A local path is not writable, or lies outside the configured allowed roots. E_ACCESSDENIED.
        public static let accessDenied = Code("accessDenied")
        /// Resume found nothing left to transfer; the group stays suspended. BITS: BG_E_EMPTY.
        public static let empty = Code("empty")
        /// The database failed (I/O error, disk full, busy past the timeout). E_FAIL or the Win32 disk error.
        public static let storage = Code("storage")
        /// The file is not a BackgroundCopy database, or was written by a newer version.
        public static let incompatibleDatabase = Code("incompatibleDatabase")
        /// SQLite found the database file damaged (`SQLITE_CORRUPT`, `SQLITE_NOTADB`) while using it;
        /// ``QueueError/value`` names the file. Nothing more is written until it is repaired.
        public static let corrupt = Code("corrupt")
        /// A file operation on a local path failed; ``QueueError/systemError`` holds `errno`.
        public static let fileSystem = Code("fileSystem")
        /// A transfer failed (network, server answer, local file). BITS: BG_E_HTTP_ERROR_* or the system error.
        public static let transfer = Code("transfer")
        /// A downloaded file did not match its expected SHA-256. BITS: BG_E_VALIDATION_FAILED.
        public static let validationFailed = Code("validationFailed")
    }

    /// The QMGR/BITS HRESULT a Windows caller would have seen for this error.
    public var hresult: UInt32 {
        switch code {
        case .notFound: return 0x8100_1004  // QM_E_ITEM_NOT_FOUND
        case .alreadyExists, .invalidArgument: return 0x8007_0057  // E_INVALIDARG
        case .invalidState: return 0x8100_1001  // QM_E_INVALID_STATE
        case .accessDenied: return 0x8007_0005  // E_ACCESSDENIED
        case .empty: return 0x8020_0003  // BG_E_EMPTY
        case .validationFailed: return 0x8020_0053  // BG_E_VALIDATION_FAILED
        case .incompatibleDatabase: return 0x8100_1002  // QM_E_SERVICE_UNAVAILABLE
        case .corrupt: return 0x8007_0570  // HRESULT_FROM_WIN32(ERROR_FILE_CORRUPT)
        case .transfer:
            if let httpStatus, (100...999).contains(httpStatus) { return 0x8019_0000 + UInt32(httpStatus) }
            if let systemError { return 0x8007_0000 | (UInt32(bitPattern: systemError) & 0xFFFF) }
            return 0x8000_4005  // E_FAIL
        case .fileSystem:
            if let systemError { return 0x8007_0000 | (UInt32(bitPattern: systemError) & 0xFFFF) }
            return 0x8000_4005
        case .storage:
            // SQLITE_FULL (13) is the disk-full condition: HRESULT_FROM_WIN32(ERROR_DISK_FULL).
            if let sqliteResultCode, sqliteResultCode & 0xFF == 13 { return 0x8007_0070 }
            return 0x8000_4005  // E_FAIL
        default: return 0x8000_4005
        }
    }
}

extension QueueError {
    static func notFound(_ what: String, _ value: String) -> QueueError {
        QueueError(.notFound, "\(what) \(value) not found (unknown or cancelled)", value: value)
    }

    static func alreadyExists(_ what: String, _ value: String) -> QueueError {
        QueueError(.alreadyExists, "\(what) \(value) already exists (IDs of cancelled ones are never reused)", value: value)
    }

    static func invalidArgument(_ message: String, value: String) -> QueueError {
        QueueError(.invalidArgument, message, value: value)
    }

    static func accessDenied(_ message: String, value: String, systemError: Int32? = nil) -> QueueError {
        QueueError(.accessDenied, message, value: value, systemError: systemError)
    }

    static func storage(resultCode: Int32, message: String, sql: String) -> QueueError {
        QueueError(.storage, message, sqliteResultCode: resultCode, sql: sql)
    }
}
