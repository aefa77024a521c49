import Foundation

/// What the engine asks a host's credential callback
/// (``QueueManager/Configuration/credentials``) before it sends an HTTP request.
///
/// The callback is asked once per request (every attempt and every same-origin redirect hop), at
/// transfer time, and only for requests to the origin (scheme, host and port) of the file's own
/// remote URL: once a redirect leaves that origin, no credentials (and no custom headers) are sent
/// for the rest of that fetch. What it returns is put in the request's `Authorization` header and
/// kept nowhere else: not in the database, not in logs, not in error messages.
public struct CredentialRequest: Sendable, Hashable {
    /// The group the file belongs to.
    public let groupID: GroupID
    /// The file's remote URL as it was added.
    public let remote: String
    /// The URL about to be requested: the remote URL, or a redirect target of the same origin.
    public let url: String

    /// A request; the engine makes these, a host's tests may too.
    public init(groupID: GroupID, remote: String, url: String) {
        self.groupID = groupID
        self.remote = remote
        self.url = url
    }
}

/// Credentials a host's callback hands to one HTTP request. Its description never shows the secret.
public enum Credential: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// HTTP Basic authentication (RFC 7617) with a user name and a password.
    case basic(user: String, password: String)
    /// A bearer token (RFC 6750).
    case bearer(String)

    /// The value of the `Authorization` header.
    var authorization: String {
        switch self {
        case .basic(let user, let password):
            "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        case .bearer(let token):
            "Bearer " + token
        }
    }

    /// The kind of credential, without the secret: `basic(user: NAME, password: <redacted>)` or `bearer(<redacted>)`.
    public var description: String {
        switch self {
        case .basic(let user, _): "basic(user: \(user), password: <redacted>)"
        case .bearer: "bearer(<redacted>)"
        }
    }

    /// The same as ``description``.
    public var debugDescription: String { description }

    /// A mirror without children, so that `dump` and reflection do not show the secret either.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .enum) }
}
