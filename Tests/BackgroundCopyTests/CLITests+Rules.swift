import CSQLite
import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

@Suite("CLI: usage errors, --version, read-only commands, wait and check", .alone)
struct CLIRulesTests {
    @Test(arguments: [
        ["frobnicate"], ["create"], ["list", "--bogus"], ["add"], ["monitor", "--count", "0"],
        ["setprop", "x", "--priority", "urgent"], ["wait"], ["wait", "x", "--interval", "0"],
        ["run", "--files-per-group", "0"],
    ])
    func everyUsageErrorIsOneErrorLineAndExit2(_ arguments: [String]) async throws {
        let result = try await CLI.run(arguments, Scratch())
        #expect(result.status == 2, "\(arguments): \(result)")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.first?.hasPrefix("bgcopy: error: ") == true, "\(arguments): \(result)")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("hint: ") }, "nothing but the error and a hint: \(result)")
        #expect(!result.stderr.contains("Usage:") && !result.stderr.contains("USAGE:"), "\(result)")
    }

    @Test func versionPrintsTheVersionAndExits0() async throws {
        let result = try await CLI.run(["--version"], Scratch(), db: false)
        #expect(result.status == 0, "\(result)")
        let version = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            version.split(separator: ".").count == 3 && version.split(separator: ".").allSatisfy { Int($0) != nil },
            "a semantic version alone: \(result)")
    }

    @Test func bareBgcopyPrintsTheHelpOnStderrAndExits2() async throws {
        let result = try await CLI.run([], Scratch(), db: false)
        #expect(result.status == 2, "\(result)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("SUBCOMMANDS") && result.stderr.contains("Exit codes"), "\(result)")
    }

    @Test(arguments: [["list"], ["create", "x"]])
    func anEmptyDbIsRefusedAndNoQueueIsUsed(_ arguments: [String]) async throws {
        let scratch = Scratch()
        let result = try await CLI.run(arguments + ["--db", ""], scratch, db: false)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.hasPrefix("bgcopy: error: ") && result.stderr.contains("--db"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path(".local/share/bgcopy")), "the default queue was not touched")
    }

    @Test(arguments: [
        ["list"], ["info", "x"], ["files", "x"], ["events"], ["monitor", "--count", "1"], ["wait", "x"], ["check"],
    ])
    func aReadOnlyCommandOnAMissingDatabaseFailsAndCreatesNothing(_ arguments: [String]) async throws {
        let scratch = Scratch()
        let result = try await CLI.run(arguments + ["--db", scratch.path("typo/queue.sqlite")], scratch, db: false)
        #expect(result.status == 1, "\(arguments): \(result)")
        #expect(result.stderr.hasPrefix("bgcopy: error: no queue at \(scratch.path("typo/queue.sqlite"))"), "\(result)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("typo")), "no directory or queue was created")
    }

    /// Starts `run --once` and returns once its engine has picked the group up, so the `wait`
    /// started next watches a group another process is transferring.
    static func engine(for id: String, _ scratch: Scratch, limit: String) async throws -> CLIProcess {
        let run = try CLI.start(["run", "--once", "--plain", "--limit", limit], scratch)
        let pickedUp = try await eventually(timeout: .seconds(30)) {
            try query(scratch.database, "SELECT state FROM groups") != [["queued"]]
        }
        try #require(pickedUp, "the engine started")
        return run
    }

    @Test func waitBlocksUntilAnotherProcessCompletesTheGroupAndExits0() async throws {
        let scratch = Scratch()
        let id = try await CLIRunTests.queuedCopy(scratch, size: 600_000)
        let run = try await Self.engine(for: id, scratch, limit: "300K")
        let result = try await CLI.run(["wait", id], scratch)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "complete \(id)\n")
        #expect(scratch.contents("copy") == pattern(600_000))
        #expect(await run.finish().status == 0)
    }

    @Test func waitExits1AndNamesTheErrorWhenTheGroupFails() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("bad", scratch)
        let source = scratch.source("bad.src", size: 1000)
        try await CLI.ok(["add", id, "file://" + source, scratch.path("bad"), "--sha256", String(repeating: "0", count: 64)], scratch)
        try await CLI.ok(["resume", id], scratch)
        let run = try await Self.engine(for: id, scratch, limit: "1M")
        let result = try await CLI.run(["wait", id], scratch)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.hasPrefix("bgcopy: error: group \(id) is in error: file 0: "), "\(result)")
        _ = await run.finish()
    }

    @Test func waitExits3WhenTheGroupIsCancelledWhileWaitingOrUnknown() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("doomed", scratch)
        let waiting = try CLI.start(["wait", id, "--interval", "0.05"], scratch)
        try await Task.sleep(for: .milliseconds(500))  // usually long enough for `wait` to have resolved the group
        try await CLI.ok(["cancel", id], scratch)
        let result = await waiting.finish()
        #expect(result.status == 3, "\(result)")
        // Cancelled while waiting, or — on a loaded machine — before `wait` resolved GROUP.
        #expect(result.stderr.contains("was cancelled") || result.stderr.contains("no live group"), "\(result)")
        #expect(try await CLI.run(["wait", "nosuchgroup"], scratch).status == 3)
    }

    @Test func checkPrintsOkForASoundQueue() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("fine", scratch)
        try await CLI.ok(["add", id, "https://example.test/a", scratch.path("a")], scratch)
        let result = try await CLI.run(["check"], scratch)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "ok\n")
    }

    @Test func checkListsTheDamageAndExits1() async throws {
        let scratch = Scratch()
        _ = try await CLI.createGroup("fine", scratch)
        try orphanJob(scratch.database)
        let result = try await CLI.run(["check"], scratch)
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.contains("of table jobs refers to a missing row of groups"), "\(result)")
        #expect(result.stderr.hasPrefix("bgcopy: error: the queue \(scratch.database) is damaged: 1 problem(s) found"))
    }
}

/// Damages the queue the way a buggy writer with foreign keys off would: a job whose group does
/// not exist. Written through a raw SQLite connection, as another program would.
func orphanJob(_ path: String) throws {
    var db: OpaquePointer?
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db else {
        throw QueueError(.storage, "cannot open \(path)")
    }
    defer { sqlite3_close_v2(db) }
    let sql = "PRAGMA foreign_keys = OFF; INSERT INTO jobs (uuid, group_id, created_at) VALUES (randomblob(16), 999999, 0)"
    guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else {
        throw QueueError(.storage, String(cString: sqlite3_errmsg(db)), sql: sql)
    }
}
