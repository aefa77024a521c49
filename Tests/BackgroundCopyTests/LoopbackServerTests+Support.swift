import AsyncHTTPClient
import Foundation
import BackgroundCopyTesting
import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A response read whole through AsyncHTTPClient.
struct Fetched {
    let status: Int
    let headers: HTTPHeaders
    let body: [UInt8]

    func header(_ name: String) -> String? { headers.first(name: name) }
}

/// Runs `body` with a fresh server and a client that neither follows redirects nor decompresses,
/// then shuts both down, whether `body` threw or not.
func withLoopback<T>(
    readTimeout: TimeAmount = .seconds(5),
    _ body: (LoopbackServer, HTTPClient) async throws -> T
) async throws -> T {
    let server = try await LoopbackServer.start()
    var configuration = HTTPClient.Configuration(
        redirectConfiguration: .disallow,
        timeout: .init(connect: .seconds(2), read: readTimeout))
    configuration.decompression = .disabled
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    do {
        let result = try await body(server, client)
        try await client.shutdown()
        try await server.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        try? await server.shutdown()
        throw error
    }
}

extension HTTPClient {
    /// Sends one request and reads the whole answer.
    func fetch(_ url: String, method: HTTPMethod = .GET, headers: [(String, String)] = []) async throws -> Fetched {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        return Fetched(status: Int(response.status.code), headers: response.headers, body: body.bytes)
    }

    /// Sends a GET and reads the body until it ends or fails: the bytes received, and the error
    /// that ended them (nil for a complete body).
    func fetchPartially(_ url: String) async throws -> (response: HTTPClientResponse, body: [UInt8], error: (any Error)?) {
        let response = try await execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        var body: [UInt8] = []
        do {
            for try await piece in response.body { body += piece.bytes }
            return (response, body, nil)
        } catch {
            return (response, body, error)
        }
    }
}

extension ByteBuffer {
    /// The readable bytes, copied in one go (iterating a `ByteBufferView` byte by byte is slow in
    /// debug builds).
    var bytes: [UInt8] {
        withUnsafeReadableBytes { source in
            [UInt8](unsafeUninitializedCapacity: source.count) { destination, count in
                if source.count > 0 { UnsafeMutableRawBufferPointer(destination).copyMemory(from: source) }
                count = source.count
            }
        }
    }
}

/// nil when `actual` equals `expected`, else where they first differ: a short message instead of
/// two huge arrays in a failed expectation. Compared with `memcmp`, fast in debug builds.
func difference(_ actual: some Collection<UInt8>, _ expected: [UInt8]) -> String? {
    let actual = Array(actual)
    let equal =
        actual.count == expected.count
        && actual.withUnsafeBytes { a in
            expected.withUnsafeBytes { b in a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
        }
    if equal { return nil }
    let common = min(actual.count, expected.count)
    let first = (0..<common).first { actual[$0] != expected[$0] }
    return "\(actual.count) bytes where \(expected.count) were expected; "
        + (first.map { "first difference at offset \($0)" } ?? "the shorter one is a prefix of the other")
}

/// A plain blocking TCP connection to the server, for checking bytes on the wire (framing,
/// surplus bytes, stalls) that an HTTP client would hide. Every call runs on its own thread so the
/// test's concurrency pool never blocks.
final class RawConnection: @unchecked Sendable {
    private let descriptor: Int32

    /// Connects to 127.0.0.1:`port`; reads give up after `timeout` of silence.
    init(port: Int, timeout: Duration = .milliseconds(500)) throws {
        #if canImport(Glibc)
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        let (seconds, attoseconds) = timeout.components
        var interval = timeval(tv_sec: .init(seconds), tv_usec: .init(attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            _ = close(descriptor)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { _ = close(descriptor) }

    /// Sends `text` as is.
    func send(_ text: String) async {
        let bytes = Array(text.utf8)
        await onThread {
            var sent = 0
            while sent < bytes.count {
                let result = bytes[sent...].withUnsafeBytes { write(self.descriptor, $0.baseAddress, $0.count) }
                if result <= 0 { return }
                sent += result
            }
        }
    }

    /// Reads until the server closes (`closed` true), or until it stays silent for the timeout
    /// (`closed` false), or `limit` bytes arrived.
    func read(limit: Int = 16 << 20) async -> (bytes: [UInt8], closed: Bool) {
        await onThread {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while received.count < limit {
                let count = buffer.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, $0.count, 0) }
                if count == 0 { return (received, true) }
                if count < 0 { return (received, errno == ECONNRESET) }
                received += buffer[0..<count]
            }
            return (received, false)
        }
    }

    private func onThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: work()) }.start()
        }
    }
}

/// A raw HTTP response split into its head and body bytes.
struct RawResponse {
    let statusLine: String
    let headers: [(String, String)]
    let body: [UInt8]

    init?(_ bytes: [UInt8]) {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4,
            let end = (0...bytes.count - 4).first(where: { bytes[$0..<$0 + 4].elementsEqual(separator) })
        else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        statusLine = lines[0]
        headers = lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        body = Array(bytes[(end + 4)...])
    }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The body with its chunked framing removed; nil when the framing is broken or unfinished.
    var dechunked: [UInt8]? {
        var result: [UInt8] = []
        var index = 0
        while true {
            guard let lineEnd = (index..<max(index, body.count - 1)).first(where: { body[$0] == 13 && body[$0 + 1] == 10 }),
                let size = Int(String(decoding: body[index..<lineEnd], as: UTF8.self), radix: 16)
            else { return nil }
            index = lineEnd + 2
            if size == 0 { return result }
            guard index + size + 2 <= body.count else { return nil }
            result += body[index..<index + size]
            index += size + 2
        }
    }
}
