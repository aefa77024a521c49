/// One request the server received, as ``LoopbackServer/requests(_:)`` reports it.
public struct RecordedRequest: Sendable {
    /// The method, e.g. `GET` or `HEAD`.
    public let method: String
    /// The path the request named, without its query.
    public let path: String
    /// The request target exactly as sent (path and query).
    public let uri: String
    /// Every header line in order, names as sent.
    public let headers: [(String, String)]
    /// Which accepted connection carried the request (1 for the first): two requests with the same
    /// number came over one kept-alive connection.
    public let connection: Int

    /// The first value of the header `name` (compared without case), or nil.
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// Memberwise initialiser.
    public init(method: String, path: String, uri: String, headers: [(String, String)], connection: Int) {
        self.method = method
        self.path = path
        self.uri = uri
        self.headers = headers
        self.connection = connection
    }
}
