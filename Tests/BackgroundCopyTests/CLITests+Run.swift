import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("CLI: run, download, monitor and events", .alone)
struct CLIRunTests {
    /// A group with one file copied from a `file://` source of `size` patterned bytes; resumed.
    static func queuedCopy(_ scratch: Scratch, name: String = "copy", size: Int, extra: [String] = []) async throws -> String {
        let id = try await CLI.createGroup(name, scratch, extra)
        let source = scratch.source("\(name).src", size: size)
        try await CLI.ok(["add", id, "file://" + source, scratch.path(name)], scratch)
        try await CLI.ok(["resume", id], scratch)
        return id
    }

    @Test func runOnceTransfersEveryResumedGroupPrintsLogLinesAndExits0() async throws {
        let scratch = Scratch()
        let first = try await Self.queuedCopy(scratch, name: "one", size: 100_000)
        _ = try await Self.queuedCopy(scratch, name: "two", size: 50_000, extra: ["--foreground"])
        let result = try await CLI.run(["run", "--once"], scratch)
        #expect(result.status == 0, "\(result)")
        #expect(scratch.contents("one") == pattern(100_000))
        #expect(scratch.contents("two") == pattern(50_000))
        #expect(result.stdout.contains("file done") && result.stdout.contains("group done"))
        #expect(result.stdout.contains("\(first.prefix(8)) \"one\""))
        #expect(!result.stdout.contains("\u{1B}["), "no escape sequences when stdout is not a terminal")
        let summary = try #require(result.lines.last)
        #expect(summary.hasPrefix("bgcopy: done in") && summary.contains("2 files complete") && summary.contains("2 groups complete"))
        #expect(try await CLI.info(first, scratch)["state"] as? String == "complete")
    }

    @Test func runOnceWithFilesPerGroupCopiesEveryFileAndEachFileDoneLineNamesItsPath() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("many", scratch)
        for index in 0..<6 {
            let source = scratch.source("many\(index).src", size: 10_000 + index)
            try await CLI.ok(["add", id, "file://" + source, scratch.path("many\(index)")], scratch)
        }
        try await CLI.ok(["resume", id], scratch)
        let result = try await CLI.run(["run", "--once", "--files-per-group", "4"], scratch)
        #expect(result.status == 0, "\(result)")
        for index in 0..<6 {
            #expect(scratch.contents("many\(index)") == pattern(10_000 + index))
            #expect(result.stdout.contains("file done") && result.stdout.contains("-> " + scratch.path("many\(index)")), "\(result)")
        }
        let details = try query(scratch.database, "SELECT detail FROM events WHERE kind = 'fileComplete' ORDER BY file_index, job_id")
        #expect(Set(details.map { $0[0] }) == Set((0..<6).map { scratch.path("many\($0)") }), "each fileComplete event names its local path")
    }

    @Test func runOnceWithNothingToDoExitsAtOnce() async throws {
        let scratch = Scratch()
        let result = try await CLI.run(["run", "--once"], scratch, timeout: .seconds(20))
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("0 files complete"))
    }

    @Test func runOnceExits1WhenAGroupFailsAndInfoShowsTheError() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("broken", scratch)
        try await CLI.ok(["add", id, "file://" + scratch.path("no-such-source"), scratch.path("out")], scratch)
        try await CLI.ok(["resume", id], scratch)
        let result = try await CLI.run(["run", "--once"], scratch)
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.contains("group error"))
        let info = try await CLI.info(id, scratch)
        #expect(info["state"] as? String == "error")
        let error = try #require(info["lastError"] as? [String: Any])
        #expect(error["fileIndex"] as? Int == 0)
        #expect((error["hresult"] as? String)?.hasPrefix("0x") == true)
        #expect(info["errorCount"] as? Int == 1)
    }

    @Test func ctrlCStopsRunWith130KeepsTheProgressAndTheNextRunResumes() async throws {
        let scratch = Scratch()
        let size = 2 << 20
        let id = try await Self.queuedCopy(scratch, name: "slow", size: size)
        let run = try CLI.start(["run", "--limit", "256K"], scratch)
        #expect(try await eventually(timeout: .seconds(20)) { try Self.committed(scratch) > 0 }, "\(run.output)")
        run.interrupt()
        let stopped = await run.finish(timeout: .seconds(10))
        #expect(stopped.status == 130, "\(stopped)")
        #expect(stopped.stdout.contains("interrupted") && stopped.stdout.contains("resumes"))
        let kept = try Self.committed(scratch)
        #expect(kept > 0 && kept < size)
        let files = try await CLI.run(["files", id, "--json"], scratch).objects()
        #expect(files.first?["state"] as? String == "queued")
        #expect(files.first?["bytesDone"] as? Int == kept)

        let resumed = try await CLI.run(["run", "--once"], scratch)
        #expect(resumed.status == 0, "\(resumed)")
        #expect(scratch.contents("slow") == pattern(size))
    }

    @Test func runRefusesToStartWhileAnotherEngineRunsOnTheQueue() async throws {
        let scratch = Scratch()
        let engine = RunningEngine(try scratch.open())
        defer { Task { await engine.stop() } }
        try await Task.sleep(for: .milliseconds(200))
        let result = try await CLI.run(["run", "--once"], scratch)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("another transfer engine"))
        #expect(result.stderr.contains("hint: "))
        await engine.stop()
    }

    @Test func downloadFetchesEveryURLIntoTheDirectoryAsAForegroundGroupAndExits0() async throws {
        let scratch = Scratch()
        let one = scratch.source("one.bin", size: 70_000)
        let two = scratch.source("two.bin", size: 30_000, seed: 9)
        let result = try await CLI.run(["download", "file://" + one, two, "--to", scratch.path("out")], scratch)
        #expect(result.status == 0, "\(result)")
        #expect(scratch.contents("out/one.bin") == pattern(70_000))
        #expect(scratch.contents("out/two.bin") == pattern(30_000, seed: 9))
        #expect(result.lines.last?.hasPrefix("downloaded 2 files to \(scratch.path("out"))") == true, "\(result)")
        let groups = try await CLI.run(["list", "--all", "--json"], scratch).objects()
        #expect(groups.first?["priority"] as? String == "foreground")
        #expect(groups.first?["state"] as? String == "complete")
    }

    @Test func downloadExits1WhenAFileFailsItsDigest() async throws {
        let scratch = Scratch()
        let source = scratch.source("file.bin", size: 10_000)
        let wrong = String(repeating: "0", count: 64)
        let result = try await CLI.run(["download", "file://" + source, "--to", scratch.path("out"), "--sha256", wrong], scratch)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("download incomplete"))
        #expect(!FileManager.default.fileExists(atPath: scratch.path("out/file.bin")))
    }

    @Test func downloadRefusesADigestCountThatDoesNotMatchTheURLs() async throws {
        let scratch = Scratch()
        let result = try await CLI.run(["download", "file:///a", "file:///b", "--to", scratch.directory, "--sha256", "00"], scratch)
        #expect(result.status == 2, "\(result)")
        let unnamed = try await CLI.run(["download", "https://example.test/", "--to", scratch.directory], scratch)
        #expect(unnamed.status == 2, "\(unnamed)")
        let queued =
            FileManager.default.fileExists(atPath: scratch.database)
            ? try await CLI.run(["list", "--all", "--json"], scratch).objects() : []
        #expect(queued.isEmpty, "nothing was queued")
    }

    @Test func monitorPrintsTheQueueOncePerRefreshAndExitsAfterCount() async throws {
        let scratch = Scratch()
        _ = try await CLI.createGroup("watched", scratch)
        let result = try await CLI.run(["monitor", "--count", "3", "--interval", "0.2"], scratch)
        #expect(result.status == 0, "\(result)")
        #expect(result.lines.filter { $0.hasPrefix("bgcopy monitor") }.count == 3)
        #expect(result.lines.filter { $0.contains("watched") && $0.contains("suspended") }.count == 3)
    }

    @Test func monitorExits130OnCtrlC() async throws {
        let scratch = Scratch()
        _ = try await CLI.createGroup("watched", scratch)
        let monitor = try CLI.start(["monitor"], scratch)
        #expect(await eventually { monitor.output.contains("watched") })
        monitor.interrupt()
        let result = await monitor.finish(timeout: .seconds(10))
        #expect(result.status == 130, "\(result)")
    }

    @Test func eventsPrintsTheOutboxInOrderAsJSONLines() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("evented", scratch)
        let other = try await CLI.createGroup("other", scratch)
        try await CLI.ok(["add", id, "https://example.test/a", scratch.path("a")], scratch)
        try await CLI.ok(["cancel", id], scratch)
        let result = try await CLI.run(["events", "--json"], scratch)
        #expect(result.status == 0)
        let events = try result.lines.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let sequences = events.compactMap { $0["sequence"] as? Int }
        #expect(sequences.count == events.count && sequences == sequences.sorted() && Set(sequences).count == sequences.count)
        #expect(events.first?["kind"] as? String == "groupCreated")
        #expect(events.first?["group"] as? String == id)
        #expect(events.first?["job"] is NSNull)
        #expect(events.last?["kind"] as? String == "cancelled")
        #expect(events.last?["groupState"] as? String == "cancelled")
        #expect((events.last?["date"] as? String)?.hasSuffix("Z") == true)
        let later = try await CLI.run(["events", "--json", "--since", String(sequences[1])], scratch)
        #expect(later.lines.count == events.count - 2)
        let only = try await CLI.run(["events", "--group", other], scratch)
        #expect(only.lines.count == 2, "a header and the other group's one event: \(only)")
        #expect(only.lines.first?.hasPrefix("SEQ") == true)
    }

    @Test func eventsFollowPrintsNewEventsUntilCtrlC() async throws {
        let scratch = Scratch()
        _ = try await CLI.createGroup("first", scratch)
        let follow = try CLI.start(["events", "--follow", "--json"], scratch)
        #expect(await eventually { follow.output.contains("groupCreated") })
        let id = try await CLI.createGroup("second", scratch)
        #expect(await eventually { follow.output.contains(id) }, "the new group's event arrives while following")
        follow.interrupt()
        let result = await follow.finish(timeout: .seconds(10))
        #expect(result.status == 130, "\(result)")
    }

    static func committed(_ scratch: Scratch) throws -> Int {
        Int(try query(scratch.database, "SELECT bytes_done FROM files").first?.first ?? "") ?? 0
    }
}
