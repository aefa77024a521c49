import AsyncHTTPClient
import Foundation
import BackgroundCopyTesting
import NIOCore
import NIOHTTP1
import Testing

extension LoopbackServerTests {
    /// Each ``Fault`` as a client sees it, and how long faults last.
    @Suite("LoopbackServer faults")
    struct Faults {
        @Test func closeAfterCutsTheBodyShortOfItsLength() async throws {
            try await withLoopback { server, client in
                server.serve("/file.bin", size: 200_000, seed: 11)
                server.setFault("/file.bin", .closeAfter(bytes: 50_000), times: 1)
                let cut = try await client.fetchPartially(server.url("/file.bin"))
                #expect(cut.response.status == .ok)
                #expect(cut.response.headers.first(name: "Content-Length") == "200000")
                #expect(cut.error != nil)
                // The client may drop bytes it had not handed over when the connection fails;
                // what it hands over is a prefix.
                #expect(cut.body.count <= 50_000)
                #expect(difference(cut.body, LoopbackServer.generated(size: 200_000, seed: 11, range: 0..<cut.body.count)) == nil)
                #expect(server.bytesServed("/file.bin") == 50_000)
                #expect(server.fault("/file.bin") == nil)  // used up

                server.setFault("/file.bin", .closeAfter(bytes: 50_000), times: 1)
                let wire = try RawConnection(port: server.port)
                await wire.send("GET /file.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                let (sent, ended) = await wire.read()
                #expect(ended)
                #expect(difference(RawResponse(sent)?.body ?? [], LoopbackServer.generated(size: 200_000, seed: 11, range: 0..<50_000)) == nil)

                let whole = try await client.fetch(server.url("/file.bin"))
                #expect(whole.body.count == 200_000)

                server.setFault("/file.bin", .closeAfter(bytes: 10))
                let raw = try RawConnection(port: server.port)
                await raw.send("GET /file.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-\r\n\r\n")
                let (bytes, closed) = await raw.read()
                #expect(closed)
                let response = try #require(RawResponse(bytes))
                #expect(response.statusLine.hasPrefix("HTTP/1.1 206"))
                #expect(response.header("Content-Length") == "199000")
                #expect(difference(response.body, LoopbackServer.generated(size: 200_000, seed: 11, range: 1_000..<1_010)) == nil)
            }
        }

        @Test func statusAnswersWithRetryAfterForTheGivenNumberOfRequests() async throws {
            try await withLoopback { server, client in
                server.serve("/file.bin", size: 1_000, seed: 12)
                server.setFault("/file.bin", .status(503, retryAfter: "2"), times: 2)
                for _ in 0..<2 {
                    let busy = try await client.fetch(server.url("/file.bin"))
                    #expect(busy.status == 503)
                    #expect(busy.header("Retry-After") == "2")
                    #expect(busy.body.isEmpty)
                }
                #expect(try await client.fetch(server.url("/file.bin")).status == 200)

                let date = "Wed, 21 Oct 2037 07:28:00 GMT"
                server.setFault("/file.bin", .status(429, retryAfter: date))
                for _ in 0..<3 {
                    let limited = try await client.fetch(server.url("/file.bin"))
                    #expect(limited.status == 429)
                    #expect(limited.header("Retry-After") == date)
                }
                server.setFault("/file.bin", .status(404))
                #expect(try await client.fetch(server.url("/file.bin")).status == 404)
                server.setFault("/file.bin", nil)
                #expect(try await client.fetch(server.url("/file.bin")).status == 200)
                server.setFault("/nothing-here", .status(500))
                #expect(try await client.fetch(server.url("/nothing-here")).status == 500)
                server.setFault("/file.bin", .status(500), times: 0)
                #expect(server.fault("/file.bin") == nil)
                #expect(server.bytesServed("/file.bin") == 2_000)
            }
        }

        @Test func ignoreRangeAnswersTheWholeBody() async throws {
            try await withLoopback { server, client in
                server.serve("/file.bin", size: 30_000, seed: 13)
                server.setFault("/file.bin", .ignoreRange)
                let answer = try await client.fetch(server.url("/file.bin"), headers: [("Range", "bytes=500-")])
                #expect(answer.status == 200)
                #expect(answer.header("Content-Range") == nil)
                #expect(answer.header("Accept-Ranges") == nil)
                #expect(difference(answer.body, LoopbackServer.generated(size: 30_000, seed: 13)) == nil)
            }
        }

        @Test func changeETagMakesEveryRequestSeeANewVersion() async throws {
            try await withLoopback { server, client in
                server.serve("/file.bin", size: 20_000, seed: 14)
                let original = try #require(server.etag("/file.bin"))
                let originalDate = try #require(server.lastModified("/file.bin"))
                server.setFault("/file.bin", .changeETag)

                let first = try await client.fetch(server.url("/file.bin"))
                let firstTag = try #require(first.header("ETag"))
                #expect(firstTag != original)
                #expect(first.header("Last-Modified") != originalDate)
                #expect(difference(first.body, LoopbackServer.generated(size: 20_000, seed: 14, version: 1)) == nil)
                #expect(difference(first.body, LoopbackServer.generated(size: 20_000, seed: 14)) != nil)
                #expect(difference(first.body, server.expected("/file.bin") ?? []) == nil)

                // Resuming against the version just fetched: it has changed again, so 200.
                let second = try await client.fetch(server.url("/file.bin"), headers: [("Range", "bytes=100-"), ("If-Range", firstTag)])
                #expect(second.status == 200)
                let secondTag = try #require(second.header("ETag"))
                #expect(secondTag != firstTag)
                #expect(difference(second.body, LoopbackServer.generated(size: 20_000, seed: 14, version: 2)) == nil)

                // Once cleared the version holds still and resumes work against it.
                server.setFault("/file.bin", nil)
                let third = try await client.fetch(server.url("/file.bin"), headers: [("Range", "bytes=100-"), ("If-Range", secondTag)])
                #expect(third.status == 206)
                #expect(difference(third.body, server.expected("/file.bin", range: 100..<20_000) ?? []) == nil)

                server.serve("/given", bytes: Array(repeating: 7, count: 64))
                server.setFault("/given", .changeETag, times: 1)
                let changed = try await client.fetch(server.url("/given"))
                #expect(changed.body.count == 64)
                #expect(changed.body != Array(repeating: 7, count: 64))
                #expect(difference(changed.body, server.expected("/given") ?? []) == nil)
            }
        }

        @Test func trickleSendsSlowly() async throws {
            try await withLoopback { server, client in
                server.serve("/slow.bin", size: 10_000, seed: 15)
                server.setFault("/slow.bin", .trickle(bytesPerSecond: 20_000))
                let clock = ContinuousClock()
                let started = clock.now
                let answer = try await client.fetch(server.url("/slow.bin"))
                let elapsed = clock.now - started
                #expect(difference(answer.body, LoopbackServer.generated(size: 10_000, seed: 15)) == nil)
                #expect(elapsed >= .milliseconds(350))
                #expect(elapsed < .seconds(3))
            }
        }

        @Test func redirectPointsToTheSameOrAnotherOrigin() async throws {
            try await withLoopback { server, client in
                server.serve("/new", bytes: [4, 5, 6])
                server.setFault("/old", .redirect(to: "/new"))
                let moved = try await client.fetch(server.url("/old"))
                #expect(moved.status == 302)
                #expect(moved.header("Location") == "/new")

                let other = try await LoopbackServer.start()
                other.serve("/elsewhere", size: 1_000, seed: 16)
                server.setFault("/away", .redirect(to: other.url("/elsewhere"), status: 307))
                let away = try await client.fetch(server.url("/away"))
                #expect(away.status == 307)
                let location = try #require(away.header("Location"))
                #expect(location == other.url("/elsewhere"))
                #expect(location.hasPrefix(other.baseURL) && other.baseURL != server.baseURL)
                let followed = try await client.fetch(location, headers: [("Authorization", "secret")])
                #expect(difference(followed.body, LoopbackServer.generated(size: 1_000, seed: 16)) == nil)
                #expect(other.requests("/elsewhere").first?.header("Authorization") == "secret")
                try await other.shutdown()
            }
        }

        @Test func stallSendsTheHeadThenNothingUntilShutdown() async throws {
            try await withLoopback(readTimeout: .milliseconds(300)) { server, client in
                server.serve("/stuck", size: 1_000_000, seed: 17)
                server.setFault("/stuck", .stall)
                let clock = ContinuousClock()
                let started = clock.now
                do {
                    let stuck = try await client.fetchPartially(server.url("/stuck"))
                    #expect(stuck.response.status == .ok)
                    #expect(stuck.body.isEmpty)
                    #expect(stuck.error != nil)  // the client's read timeout
                } catch {
                    // A timeout before the head arrived is the client giving up too.
                }
                #expect(clock.now - started < .seconds(3))

                let raw = try RawConnection(port: server.port, timeout: .milliseconds(300))
                await raw.send("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n")
                let (bytes, closed) = await raw.read()
                #expect(!closed)
                let head = try #require(RawResponse(bytes))
                #expect(head.header("Content-Length") == "1000000")
                #expect(head.body.isEmpty)
                let stopping = clock.now
                try await server.shutdown()
                #expect(clock.now - stopping < .seconds(2))
                #expect(await raw.read().closed)
                #expect(server.bytesServed("/stuck") == 0)
            }
        }

        @Test func longerThanContentLengthSendsSurplusBytes() async throws {
            try await withLoopback { server, _ in
                server.serve("/file.bin", size: 1_000, seed: 18)
                server.setFault("/file.bin", .longerThanContentLength(extra: 500))
                let raw = try RawConnection(port: server.port)
                await raw.send("GET /file.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                let (bytes, closed) = await raw.read()
                #expect(closed)
                let response = try #require(RawResponse(bytes))
                #expect(response.header("Content-Length") == "1000")
                #expect(response.body.count == 1_500)
                #expect(difference(Array(response.body.prefix(1_000)), LoopbackServer.generated(size: 1_000, seed: 18)) == nil)
                #expect(server.bytesServed("/file.bin") == 1_500)
            }
        }

        @Test func noContentLengthSendsChunkedBodies() async throws {
            try await withLoopback { server, client in
                server.serve("/file.bin", size: 70_000, seed: 19)
                server.setFault("/file.bin", .noContentLength)
                let raw = try RawConnection(port: server.port, timeout: .milliseconds(300))
                await raw.send("GET /file.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                let (bytes, closed) = await raw.read()
                #expect(!closed)  // still usable
                let response = try #require(RawResponse(bytes))
                #expect(response.header("Content-Length") == nil)
                #expect(response.header("Transfer-Encoding") == "chunked")
                #expect(difference(response.dechunked ?? [], LoopbackServer.generated(size: 70_000, seed: 19)) == nil)

                let answer = try await client.fetch(server.url("/file.bin"), headers: [("Range", "bytes=69000-")])
                #expect(answer.status == 206)
                #expect(answer.header("Content-Length") == nil)
                #expect(difference(answer.body, LoopbackServer.generated(size: 70_000, seed: 19, range: 69_000..<70_000)) == nil)
            }
        }

        @Test func closeDelimitedEndsTheBodyByClosing() async throws {
            try await withLoopback { server, client in
                server.serve("/file.bin", size: 70_000, seed: 20)
                server.setFault("/file.bin", .closeDelimited)
                let raw = try RawConnection(port: server.port)
                await raw.send("GET /file.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                let (bytes, closed) = await raw.read()
                #expect(closed)
                let response = try #require(RawResponse(bytes))
                #expect(response.header("Content-Length") == nil)
                #expect(response.header("Transfer-Encoding") == nil)
                #expect(response.header("Connection") == "close")
                #expect(difference(response.body, LoopbackServer.generated(size: 70_000, seed: 20)) == nil)

                let answer = try await client.fetch(server.url("/file.bin"))
                #expect(difference(answer.body, LoopbackServer.generated(size: 70_000, seed: 20)) == nil)
            }
        }
    }
}
