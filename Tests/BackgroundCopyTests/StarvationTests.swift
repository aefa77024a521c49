import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("Readers never starve the engine", .alone)
struct StarvationTests {
    @Test func tightStatusAndProgressLoopsDoNotStopTheEngine() async throws {
        let scratch = Scratch()
        let manager = try scratch.open(scratch.engineConfiguration())
        try FileManager.default.createDirectory(atPath: scratch.path("sources"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path("out"), withIntermediateDirectories: true)
        let specs = (0..<500).map { index in
            FileSpec(remote: scratch.source("sources/s\(index)", size: 512, seed: UInt8(index % 251)), local: scratch.path("out/f\(index)"))
        }
        let group = try await manager.createGroup(properties: quickRetries("many small files"))
        try await group.createJob().addFiles(specs)
        try await group.resume()
        let pollers = (0..<8).map { _ in
            Task {
                var calls = 0
                while !Task.isCancelled {
                    _ = try? await group.status()
                    _ = try? await group.progress()
                    calls += 2
                }
                return calls
            }
        }
        let engine = RunningEngine(manager)
        let completed = await eventually(timeout: .seconds(120)) { (try? group.status().state) == .complete }
        for poller in pollers { poller.cancel() }
        var calls = 0
        for poller in pollers { calls += await poller.value }
        await engine.stop()
        let done = try await group.progress().filesDone
        #expect(completed, "500 files completed while 8 tasks read in tight loops (\(calls) calls, \(done) files done)")
        #expect(try await group.progress().filesDone == 500)
        #expect(calls > 0)
    }
}
