import Foundation

/// What ``GroupID`` and ``JobID`` share: a UUID with a canonical lowercase text form.
public protocol QueueIdentifier: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The UUID behind the ID.
    var uuid: UUID { get }
    /// Wraps an existing UUID.
    init(_ uuid: UUID)
}

extension QueueIdentifier {
    /// A new random ID.
    public init() { self.init(UUID()) }

    /// Parses the canonical text form (`e621e1f8-c36c-495a-93fc-0c247a3e6e5f`, any case); `nil` if malformed.
    public init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.init(uuid)
    }

    /// The lowercase canonical text form.
    public var description: String { uuid.uuidString.lowercased() }
}

/// The ID of a group: a UUID the caller chooses or the library generates (QMGR: the group GUID).
///
/// Once used, a group ID is never used again, not even after the group is cancelled and purged.
public struct GroupID: QueueIdentifier {
    /// The UUID behind the ID.
    public let uuid: UUID

    /// Wraps an existing UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }
}

/// The ID of a job (QMGR: the job GUID). Unique across the queue, live or cancelled, until purged.
public struct JobID: QueueIdentifier {
    /// The UUID behind the ID.
    public let uuid: UUID

    /// Wraps an existing UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }
}

extension UUID {
    /// The 16 bytes stored in the `uuid` columns.
    var bytes: [UInt8] {
        withUnsafeBytes(of: uuid) { Array($0) }
    }
}
