import Foundation
import BackgroundCopyTesting
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("HTTP redirects: followed within limits, checked at every hop", .alone)
struct HTTPRedirectTests {
    @Test(arguments: [301, 302, 303, 307, 308])
    func aSameOriginRedirectIsFollowed(status: Int) async throws {
        let http = try await HTTPFixture()
        http.server.serve("/real.bin", size: 20_000, seed: 1)
        http.server.setFault("/alias.bin", .redirect(to: "/real.bin", status: status))
        let group = try http.download("/alias.bin")
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.file("alias.bin") == http.server.expected("/real.bin"))
        #expect(http.server.bytesServed("/real.bin") == 20_000)
    }

    @Test func aCrossOriginRedirectDropsTheGroupsCustomHeaders() async throws {
        let http = try await HTTPFixture()
        let other = try await LoopbackServer.start()
        other.serve("/elsewhere.bin", size: 5000, seed: 2)
        http.server.setFault("/start.bin", .redirect(to: other.url("/elsewhere.bin")))
        var properties = quickRetries("headers")
        properties.httpHeaders = [HTTPHeader(name: "X-Api-Key", value: "secret-key")]
        let group = try http.download("/start.bin", properties: properties)
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        try await other.shutdown()
        #expect(http.file("start.bin") == other.expected("/elsewhere.bin"))
        #expect(http.server.requests("/start.bin").first?.header("X-Api-Key") == "secret-key")
        #expect(other.requests("/elsewhere.bin").first?.header("X-Api-Key") == nil)
    }

    @Test func aRedirectLoopFailsAfterTheConfiguredLimit() async throws {
        let http = try await HTTPFixture { $0.maxRedirects = 5 }
        http.server.setFault("/ping", .redirect(to: "/pong"))
        http.server.setFault("/pong", .redirect(to: "/ping"))
        let group = try http.download("/ping")
        #expect(try await http.finished(group) == .error)
        try await http.stop()
        await #expect(try group.status().lastError?.error.message.contains("more than 5 redirects") == true)
        #expect(http.server.requests("/ping").count + http.server.requests("/pong").count == 6)
    }

    @Test(arguments: ["file:///etc/passwd", "ftp://127.0.0.1/file"])
    func aRedirectToAnotherSchemeIsRefused(target: String) async throws {
        let http = try await HTTPFixture()
        http.server.setFault("/sneaky", .redirect(to: target))
        let group = try http.download("/sneaky")
        #expect(try await http.finished(group) == .error)
        try await http.stop()
        let failure = try await #require(try group.status().lastError)
        #expect(failure.error.message.contains("refused"))
        #expect(http.file("sneaky") == nil)
    }
}
