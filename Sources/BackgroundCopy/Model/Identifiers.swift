import Foundation

/// The ID of a group: a UUID the caller chooses or the library generates (QMGR: the group GUID).
///
/// Once used, a group ID is never used again, not even after the group is cancelled and purged.
public struct GroupID: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The UUID behind the ID.
    public let uuid: UUID

    /// Wraps an existing UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }

    /// A new random ID.
    public init() { self.uuid = UUID() }

    /// Parses the canonical text form (`E621E1F8-C36C-495A-93FC-0C247A3E6E5F`, any case); `nil` if malformed.
    public init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.uuid = uuid
    }

    /// The lowercase canonical text form.
    public var description: String { uuid.uuidString.lowercased() }
}

/// The ID of a job (QMGR: the job GUID). Unique across the whole queue, live or cancelled.
public struct JobID: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The UUID behind the ID.
    public let uuid: UUID

    /// Wraps an existing UUID.
    public init(_ uuid: UUID) { self.uuid = uuid }

    /// A new random ID.
    public init() { self.uuid = UUID() }

    /// Parses the canonical text form (any case); `nil` if malformed.
    public init?(_ text: String) {
        guard let uuid = UUID(uuidString: text) else { return nil }
        self.uuid = uuid
    }

    /// The lowercase canonical text form.
    public var description: String { uuid.uuidString.lowercased() }
}

extension UUID {
    /// The 16 bytes stored in the `uuid` columns.
    var bytes: [UInt8] {
        withUnsafeBytes(of: uuid) { Array($0) }
    }

    init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: bytes) }
        self.init(uuid: value)
    }
}
