import Foundation
import BackgroundCopyTesting
import Testing
import TestScheduling
@testable import BackgroundCopy

/// One loopback server, one queue and one running engine for an HTTP test.
struct HTTPFixture {
    let scratch = Scratch()
    let server: LoopbackServer
    let manager: QueueManager
    let engine: RunningEngine

    init(configure: (inout QueueManager.Configuration) -> Void = { _ in }) async throws {
        server = try await LoopbackServer.start()
        var configuration = scratch.engineConfiguration()
        configure(&configuration)
        manager = try scratch.open(configuration)
        engine = RunningEngine(manager)
    }

    /// Queues `path` from the server into a group of its own, resumed; returns the group.
    func download(_ path: String, properties: GroupProperties = quickRetries("http"), sha256: String? = nil) throws -> Group {
        let group = try manager.createGroup(properties: properties)
        try group.createJob().addFiles([FileSpec(remote: server.url(path), local: scratch.path(String(path.split(separator: "/").last!)), sha256: sha256)])
        try group.resume()
        return group
    }

    func finished(_ group: Group, timeout: Duration = .seconds(20)) async throws -> GroupState {
        _ = try await eventually(timeout: timeout) { [.complete, .error].contains(try group.status().state) }
        return try await group.status().state
    }

    func file(_ name: String) -> [UInt8]? { scratch.contents(name) }

    func stop() async throws {
        await engine.stop()
        try await server.shutdown()
    }
}

@Suite("HTTP transfers against the loopback server's faults", .alone)
struct HTTPTransferTests {
    @Test func aPlainDownloadIsByteIdenticalAndFetchedOnce() async throws {
        let http = try await HTTPFixture()
        http.server.serve("/plain.bin", size: 2_500_000, seed: 1)
        let group = try http.download("/plain.bin")
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.file("plain.bin") == http.server.expected("/plain.bin"))
        #expect(http.server.bytesServed("/plain.bin") == 2_500_000)
    }

    @Test func aConnectionClosedMidBodyIsResumedFromTheBytesAlreadyHeld() async throws {
        let http = try await HTTPFixture()
        let size = 3_000_000
        http.server.serve("/cut.bin", size: size, seed: 2)
        http.server.setFault("/cut.bin", .closeAfter(bytes: 1_000_000), times: 1)
        let group = try http.download("/cut.bin")
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.file("cut.bin") == http.server.expected("/cut.bin"))
        let requests = http.server.requests("/cut.bin")
        try #require(requests.count == 2)
        let range = try #require(requests[1].header("Range"))
        let resumedAt = try #require(Int(range.dropFirst("bytes=".count).dropLast()))
        #expect(resumedAt > 0 && resumedAt <= 1_000_000)
        #expect(requests[1].header("If-Range") == http.server.etag("/cut.bin"))
        #expect(http.server.bytesServed("/cut.bin") == 1_000_000 + size - resumedAt, "the resume fetched only the missing bytes")
    }

    @Test(arguments: [500, 503, 408])
    func serverErrorsAreTransientAndRetried(status: Int) async throws {
        let http = try await HTTPFixture()
        http.server.serve("/flaky.bin", size: 10_000, seed: 3)
        http.server.setFault("/flaky.bin", .status(status), times: 2)
        let group = try http.download("/flaky.bin")
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.file("flaky.bin") == http.server.expected("/flaky.bin"))
        #expect(http.server.requests("/flaky.bin").count == 3)
        #expect(http.server.bytesServed("/flaky.bin") == 10_000)
    }

    @Test func tooManyRequestsWaitsAsLongAsRetryAfterSays() async throws {
        let http = try await HTTPFixture()
        http.server.serve("/busy.bin", size: 1000, seed: 4)
        http.server.setFault("/busy.bin", .status(429, retryAfter: "1"), times: 1)
        let started = ContinuousClock.now
        let group = try http.download("/busy.bin")
        #expect(try await http.finished(group) == .complete)
        let elapsed = started.duration(to: .now)
        try await http.stop()
        #expect(elapsed >= .seconds(0.95), "retried after \(elapsed), before the server's Retry-After")
        #expect(http.file("busy.bin") == http.server.expected("/busy.bin"))
    }

    @Test(arguments: [404, 403, 410])
    func clientErrorsFailTheGroupWithTheHTTPStatus(status: Int) async throws {
        let http = try await HTTPFixture()
        http.server.serve("/gone.bin", size: 1000, seed: 5)
        http.server.setFault("/gone.bin", .status(status))
        let group = try http.download("/gone.bin")
        #expect(try await http.finished(group) == .error)
        try await http.stop()
        let failure = try await #require(try group.status().lastError)
        #expect(failure.error.httpStatus == status)
        #expect(failure.error.hresult == 0x8019_0000 + UInt32(status))
        #expect(http.server.requests("/gone.bin").count == 1)
        #expect(http.file("gone.bin") == nil)
    }

    @Test func aServerThatIgnoresRangeMakesTheFileStartOver() async throws {
        let http = try await HTTPFixture()
        let size = 2_000_000
        http.server.serve("/norange.bin", size: size, seed: 6)
        http.server.setFault("/norange.bin", .closeAfter(bytes: 700_000), times: 1)
        let group = try http.download("/norange.bin")
        #expect(try await eventually { http.server.requests("/norange.bin").count >= 1 })
        http.server.setFault("/norange.bin", .ignoreRange)
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.file("norange.bin") == http.server.expected("/norange.bin"))
        let requests = http.server.requests("/norange.bin")
        #expect(requests.count == 2 && requests[1].header("Range") != nil)
        #expect(http.server.bytesServed("/norange.bin") == 700_000 + size)
    }

    @Test func aChangedETagMakesTheFileStartOverWithTheNewContent() async throws {
        let http = try await HTTPFixture()
        let size = 2_000_000
        http.server.serve("/moving.bin", size: size, seed: 7)
        http.server.setFault("/moving.bin", .closeAfter(bytes: 600_000), times: 1)
        let group = try http.download("/moving.bin")
        #expect(try await eventually { http.server.requests("/moving.bin").count >= 1 })
        let firstETag = http.server.etag("/moving.bin")
        http.server.setFault("/moving.bin", .changeETag, times: 1)
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.server.etag("/moving.bin") != firstETag)
        #expect(http.file("moving.bin") == http.server.expected("/moving.bin"), "the file is the new version, whole")
        #expect(http.server.requests("/moving.bin")[1].header("If-Range") == firstETag)
        #expect(http.server.bytesServed("/moving.bin") == 600_000 + size)
    }

    @Test func aTricklingTransferIsSuspendedWithinOneSecond() async throws {
        let http = try await HTTPFixture()
        http.server.serve("/slow.bin", size: 1_000_000, seed: 8)
        http.server.setFault("/slow.bin", .trickle(bytesPerSecond: 100_000))
        let group = try http.download("/slow.bin")
        #expect(try await eventually { try EngineControlTests.committed(http.scratch) > 0 })
        let suspended = ContinuousClock.now
        try await group.suspend()
        #expect(try await eventually { try query(http.scratch.database, "SELECT state FROM files") == [["queued"]] })
        let latency = suspended.duration(to: .now)
        #expect(latency < .seconds(1), "stopped after \(latency)")
        http.server.setFault("/slow.bin", nil)
        try await group.resume()
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.file("slow.bin") == http.server.expected("/slow.bin"))
        let range = try #require(http.server.requests("/slow.bin").last?.header("Range"))
        #expect(range.hasPrefix("bytes=") && range != "bytes=0-")
    }

    @Test func aStalledServerTimesOutAndTheRetrySucceeds() async throws {
        let http = try await HTTPFixture { $0.readTimeout = .milliseconds(300) }
        http.server.serve("/stall.bin", size: 5000, seed: 9)
        http.server.setFault("/stall.bin", .stall, times: 1)
        let group = try http.download("/stall.bin")
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.file("stall.bin") == http.server.expected("/stall.bin"))
        #expect(http.server.requests("/stall.bin").count == 2)
    }

    @Test func aForegroundFileGetsAConnectionWhileBackgroundDownloadsHoldMoreThanEight() async throws {
        let http = try await HTTPFixture { configuration in
            configuration.maxFilesPerGroup = 12
            configuration.connectTimeout = .seconds(30)  // a request queued for a connection waits this long
        }
        let stalled = (0..<12).map { "/held\($0).bin" }
        for (index, path) in stalled.enumerated() {
            http.server.serve(path, size: 5000, seed: UInt64(index))
            http.server.setFault(path, .stall)
        }
        let background = try await http.manager.createGroup(properties: quickRetries("background"))
        try await background.createJob().addFiles(
            stalled.map { FileSpec(remote: http.server.url($0), local: http.scratch.path(String($0.dropFirst()))) })
        try await background.resume()
        #expect(
            await eventually(timeout: .seconds(5)) { stalled.allSatisfy { !http.server.requests($0).isEmpty } },
            "all 12 background files hold a connection, more than AsyncHTTPClient's default of 8 a host")
        http.server.serve("/front.bin", size: 5000, seed: 99)
        let front = try http.download("/front.bin", properties: quickRetries("front", priority: .foreground))
        #expect(try await http.finished(front, timeout: .seconds(1.5)) == .complete)
        #expect(http.server.requests("/front.bin").count == 1, "fetched on its first try")
        #expect(try await background.status().state == .transferring)
        try await http.stop()
        #expect(http.file("front.bin") == http.server.expected("/front.bin"))
    }

    @Test func aBodyLongerThanItsContentLengthIsNotAccepted() async throws {
        let http = try await HTTPFixture()
        http.server.serve("/long.bin", size: 50_000, seed: 10)
        http.server.setFault("/long.bin", .longerThanContentLength(extra: 5000), times: 1)
        let group = try http.download("/long.bin")
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.file("long.bin") == http.server.expected("/long.bin"))
        #expect(http.file("long.bin")?.count == 50_000)
    }

    @Test(arguments: [Fault.noContentLength, .closeDelimited])
    func aBodyWithoutContentLengthIsTakenWhole(fault: Fault) async throws {
        let http = try await HTTPFixture()
        http.server.serve("/nolength.bin", size: 300_000, seed: 11)
        http.server.setFault("/nolength.bin", fault)
        let group = try http.download("/nolength.bin")
        #expect(try await http.finished(group) == .complete)
        try await http.stop()
        #expect(http.file("nolength.bin") == http.server.expected("/nolength.bin"))
        await #expect(try group.jobs()[0].file(at: 0).bytesTotal == 300_000)
    }
}
