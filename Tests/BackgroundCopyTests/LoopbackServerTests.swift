import AsyncHTTPClient
import Foundation
import BackgroundCopyTesting
import NIOCore
import NIOHTTP1
import Testing
import TestScheduling

/// The loopback test server: HTTP semantics, generated content, accounting. Faults are in
/// `LoopbackServerTests+Faults.swift`.
@Suite("LoopbackServer", .alone)
struct LoopbackServerTests {
    @Test func fullGetServesTheGeneratedBytesWithValidators() async throws {
        try await withLoopback { server, client in
            server.serve("/file.bin", size: 100_000, seed: 1)
            let answer = try await client.fetch(server.url("/file.bin"))
            #expect(answer.status == 200)
            #expect(answer.header("Content-Length") == "100000")
            #expect(answer.header("Accept-Ranges") == "bytes")
            #expect(answer.header("ETag") == server.etag("/file.bin"))
            #expect(answer.header("ETag")?.hasPrefix("\"") == true)
            #expect(answer.header("Last-Modified") == server.lastModified("/file.bin"))
            // An IMF-fixdate whose weekday agrees with its date: it survives a round trip.
            let lastModified = try #require(answer.header("Last-Modified"))
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            let date = try #require(formatter.date(from: lastModified))
            #expect(formatter.string(from: date) == lastModified)
            #expect(difference(answer.body, LoopbackServer.generated(size: 100_000, seed: 1)) == nil)
            #expect(server.bytesServed("/file.bin") == 100_000)
            let requests = server.requests("/file.bin")
            #expect(requests.count == 1)
            #expect(requests.first?.method == "GET")
            #expect(requests.first?.path == "/file.bin")
        }
    }

    @Test func serverBasics() async throws {
        try await withLoopback { server, client in
            #expect(server.port > 0)
            #expect(server.baseURL == "http://127.0.0.1:\(server.port)")
            #expect(server.url("a/b") == "http://127.0.0.1:\(server.port)/a/b")
            let missing = try await client.fetch(server.url("/nothing"))
            #expect(missing.status == 404)
            #expect(missing.body.isEmpty)
            server.serve("/given", bytes: Array("hello, loopback".utf8))
            let given = try await client.fetch(server.url("/given?query=1"))
            #expect(given.status == 200)
            #expect(String(decoding: given.body, as: UTF8.self) == "hello, loopback")
            #expect(server.requests("/given").first?.uri == "/given?query=1")
            server.remove("/given")
            #expect(try await client.fetch(server.url("/given")).status == 404)
            let post = try await client.fetch(server.url("/given"), method: .POST)
            #expect(post.status == 405)
        }
    }

    @Test func generatedContentIsDeterministicAndRandomAccess() {
        let whole = LoopbackServer.generated(size: 10_000, seed: 42)
        #expect(whole.count == 10_000)
        #expect(difference(whole, LoopbackServer.generated(size: 10_000, seed: 42)) == nil)
        for range in [0..<1, 3..<17, 8..<16, 9_999..<10_000, 1_234..<5_677, 0..<0] {
            #expect(difference(LoopbackServer.generated(size: 10_000, seed: 42, range: range), Array(whole[range])) == nil)
        }
        #expect(difference(whole, LoopbackServer.generated(size: 10_000, seed: 43)) != nil)
        #expect(difference(whole, LoopbackServer.generated(size: 10_000, seed: 42, version: 1)) != nil)
        #expect(Set(whole).count > 250)  // looks random: nearly every byte value appears
    }

    @Test func rangeResumeAnswers206WithTheSlice() async throws {
        try await withLoopback { server, client in
            server.serve("/file.bin", size: 100_000, seed: 2)
            let etag = try #require(server.etag("/file.bin"))
            let answer = try await client.fetch(server.url("/file.bin"), headers: [("Range", "bytes=40000-"), ("If-Range", etag)])
            #expect(answer.status == 206)
            #expect(answer.header("Content-Range") == "bytes 40000-99999/100000")
            #expect(answer.header("Content-Length") == "60000")
            #expect(answer.header("ETag") == etag)
            #expect(difference(answer.body, LoopbackServer.generated(size: 100_000, seed: 2, range: 40_000..<100_000)) == nil)
            #expect(server.bytesServed("/file.bin") == 60_000)
            let recorded = try #require(server.requests("/file.bin").first)
            #expect(recorded.header("range") == "bytes=40000-")
            #expect(recorded.header("If-Range") == etag)

            let bounded = try await client.fetch(server.url("/file.bin"), headers: [("Range", "bytes=10-19")])
            #expect(bounded.status == 206)
            #expect(bounded.header("Content-Range") == "bytes 10-19/100000")
            #expect(difference(bounded.body, LoopbackServer.generated(size: 100_000, seed: 2, range: 10..<20)) == nil)
            let suffix = try await client.fetch(server.url("/file.bin"), headers: [("Range", "bytes=-5")])
            #expect(suffix.header("Content-Range") == "bytes 99995-99999/100000")
            #expect(difference(suffix.body, LoopbackServer.generated(size: 100_000, seed: 2, range: 99_995..<100_000)) == nil)
        }
    }

    @Test func rangePastTheEndAnswers416() async throws {
        try await withLoopback { server, client in
            server.serve("/file.bin", size: 1_000, seed: 3)
            for start in [1_000, 5_000] {
                let answer = try await client.fetch(server.url("/file.bin"), headers: [("Range", "bytes=\(start)-")])
                #expect(answer.status == 416)
                #expect(answer.header("Content-Range") == "bytes */1000")
                #expect(answer.body.isEmpty)
            }
            server.serve("/empty", bytes: [])
            #expect(try await client.fetch(server.url("/empty"), headers: [("Range", "bytes=0-")]).status == 416)
            #expect(server.bytesServed("/file.bin") == 0)
        }
    }

    @Test func ifRangeWithAnotherValidatorAnswersTheWholeBody() async throws {
        try await withLoopback { server, client in
            server.serve("/file.bin", size: 50_000, seed: 4)
            let stale = try await client.fetch(server.url("/file.bin"), headers: [("Range", "bytes=100-"), ("If-Range", "\"not-this-one\"")])
            #expect(stale.status == 200)
            #expect(stale.header("Content-Range") == nil)
            #expect(difference(stale.body, LoopbackServer.generated(size: 50_000, seed: 4)) == nil)
            let date = try #require(server.lastModified("/file.bin"))
            let byDate = try await client.fetch(server.url("/file.bin"), headers: [("Range", "bytes=100-"), ("If-Range", date)])
            #expect(byDate.status == 206)
            #expect(byDate.body.count == 49_900)
            let malformed = try await client.fetch(server.url("/file.bin"), headers: [("Range", "bytes=5-1")])
            #expect(malformed.status == 200)
        }
    }

    @Test func headAnswersTheHeadersWithoutABody() async throws {
        try await withLoopback { server, client in
            server.serve("/file.bin", size: 4_096, seed: 5)
            let head = try await client.fetch(server.url("/file.bin"), method: .HEAD)
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "4096")
            #expect(head.header("ETag") == server.etag("/file.bin"))
            #expect(head.body.isEmpty)
            #expect(server.bytesServed("/file.bin") == 0)
            // The connection is still good for a GET.
            #expect(try await client.fetch(server.url("/file.bin")).body.count == 4_096)
            #expect(server.connectionsAccepted == 1)
        }
    }

    @Test func keepAliveReusesOneConnection() async throws {
        try await withLoopback { server, client in
            server.serve("/a", size: 300_000, seed: 6)
            server.serve("/b", bytes: [1, 2, 3])
            for _ in 0..<3 {
                #expect(try await client.fetch(server.url("/a")).body.count == 300_000)
                #expect(try await client.fetch(server.url("/b")).body == [1, 2, 3])
            }
            #expect(server.connectionsAccepted == 1)
            let connections = Set((server.requests("/a") + server.requests("/b")).map(\.connection))
            #expect(connections == [1])

            // A client that asks for close gets it.
            let raw = try RawConnection(port: server.port)
            await raw.send("GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let (bytes, closed) = await raw.read()
            #expect(closed)
            #expect(RawResponse(bytes)?.header("Connection") == "close")
            #expect(RawResponse(bytes)?.body == [1, 2, 3])
        }
    }

    @Test func accountingCountsBodyBytesAndRequestsUntilReset() async throws {
        try await withLoopback { server, client in
            server.serve("/file.bin", size: 10_000, seed: 7)
            _ = try await client.fetch(server.url("/file.bin"), headers: [("Authorization", "Bearer token")])
            _ = try await client.fetch(server.url("/file.bin"), headers: [("Range", "bytes=9000-")])
            _ = try await client.fetch(server.url("/file.bin"), method: .HEAD)
            #expect(server.bytesServed("/file.bin") == 11_000)
            #expect(server.bytesServed("/other") == 0)
            let requests = server.requests("/file.bin")
            #expect(requests.map(\.method) == ["GET", "GET", "HEAD"])
            #expect(requests[0].header("authorization") == "Bearer token")
            #expect(requests[0].headers.contains { $0.0 == "Authorization" && $0.1 == "Bearer token" })
            #expect(requests[1].header("Range") == "bytes=9000-")
            server.resetCounters()
            #expect(server.bytesServed("/file.bin") == 0)
            #expect(server.requests("/file.bin").isEmpty)
            #expect(try await client.fetch(server.url("/file.bin")).status == 200)  // content stays
        }
    }

    @Test func sixtyFourMebibytesStreamThroughInPieces() async throws {
        let size = 64 << 20
        try await withLoopback { server, client in
            server.serve("/big.bin", size: size, seed: 8)
            let response = try await client.execute(HTTPClientRequest(url: server.url("/big.bin")), timeout: .seconds(60))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "Content-Length") == String(size))
            // Compared piece by piece against the generator: neither side holds the whole body.
            var offset = 0
            var mismatches = 0
            for try await piece in response.body {
                let expected = LoopbackServer.generated(size: size, seed: 8, range: offset..<offset + piece.readableBytes)
                let equal = piece.withUnsafeReadableBytes { received in
                    expected.withUnsafeBytes { memcmp(received.baseAddress!, $0.baseAddress!, received.count) == 0 }
                }
                if !equal { mismatches += 1 }
                offset += piece.readableBytes
            }
            #expect(offset == size)
            #expect(mismatches == 0)
            #expect(server.bytesServed("/big.bin") == size)
        }
    }

    @Test func shutdownClosesConnectionsAndRefusesNewOnes() async throws {
        let server = try await LoopbackServer.start()
        server.serve("/file.bin", size: 10, seed: 9)
        let raw = try RawConnection(port: server.port, timeout: .milliseconds(300))
        await raw.send("GET /file.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        let (bytes, closedEarly) = await raw.read()
        #expect(!closedEarly)  // kept alive
        #expect(RawResponse(bytes)?.body.count == 10)
        try await server.shutdown()
        let (after, closed) = await raw.read()
        #expect(closed)
        #expect(after.isEmpty)
        #expect(throws: (any Error).self) { try RawConnection(port: server.port) }
        try await server.shutdown()  // again: nothing happens
    }
}
