/// The settable properties of a group (QMGR: GROUPPROP_*; BITS added the rest).
///
/// Validated as a whole by ``Group/setProperties(_:)-4i4lg`` and ``QueueManager/createGroup(id:properties:)-1fkvq``:
/// a rejected value throws `invalidArgument` naming it, and nothing is written.
public struct GroupProperties: Sendable, Hashable {
    /// 1 to 256 characters, no control characters. GROUPPROP_DISPLAYNAME.
    public var displayName: String
    /// At most 1,024 characters; tab and newline allowed, no other control character. GROUPPROP_DESCRIPTION.
    public var description: String
    /// Scheduling priority; ``Priority/normal`` by default. GROUPPROP_PRIORITY.
    public var priority: Priority
    /// Which events observers hear about; `[.groupDone, .error]` by default. GROUPPROP_NOTIFYFLAGS.
    public var notifyFlags: NotifyFlags
    /// How long to wait before retrying after a transient error: at least the configuration's
    /// ``QueueManager/Configuration/minimumRetryDelay``, at most 7 days; 10 minutes by default (BITS).
    public var retryDelay: Duration
    /// How long transient errors may go on without progress before the group goes into error;
    /// `.zero` means never retry; at most 365 days; 14 days by default (BITS).
    public var noProgressTimeout: Duration
    /// Extra HTTP request headers sent with every request of the group. Credentials do not go here:
    /// `Authorization`, `Proxy-Authorization` and `Cookie` are refused, since they would be stored.
    public var httpHeaders: [HTTPHeader]
    /// The program the engine runs after each group completion or error event the notify flags
    /// let through; `nil` (the default) for none. BITS: SetNotifyCmdLine. See ``NotifyCommand``.
    public var notifyCommand: NotifyCommand?

    /// Properties with the given display name and BITS' defaults for everything else.
    public init(
        displayName: String,
        description: String = "",
        priority: Priority = .normal,
        notifyFlags: NotifyFlags = .default,
        retryDelay: Duration = .seconds(600),
        noProgressTimeout: Duration = .seconds(14 * 24 * 3600),
        httpHeaders: [HTTPHeader] = [],
        notifyCommand: NotifyCommand? = nil
    ) {
        self.displayName = displayName
        self.description = description
        self.priority = priority
        self.notifyFlags = notifyFlags
        self.retryDelay = retryDelay
        self.noProgressTimeout = noProgressTimeout
        self.httpHeaders = httpHeaders
        self.notifyCommand = notifyCommand
    }
}

/// One custom HTTP request header of a group.
public struct HTTPHeader: Sendable, Hashable, Codable {
    /// The field name: an HTTP token (letters, digits, the backtick and `!#$%&'*+-.^_|~`), 1 to 256 characters.
    public var name: String
    /// The field value: no control character but tab, at most 8,192 bytes in UTF-8.
    public var value: String

    /// A header with this name and value.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
