import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// The completion hooks' promises that outlive a process: the run owed is committed with the event,
/// a kill before or during the run runs it again, and a bad command is refused before anything is written.
@Suite("Notify command: crashes, validation, storage", .serialized, .alone)
struct NotifyCommandDurabilityTests {
    @Test func aCompletionCommittedWhileNoEngineRanRunsTheCommandOnceAtTheNextEngineStart() async throws {
        let scratch = Scratch()
        let hook = HookScript(scratch)
        do {
            // The engine's own store steps, driven with no engine running: the process "dies" right
            // after the completion committed and before any command could run.
            let manager = try scratch.open(scratch.engineConfiguration())
            var properties = GroupProperties(displayName: "committed")
            properties.notifyCommand = hook.command(["x"])
            let group = try await manager.createGroup(properties: properties)
            try await group.createJob().addFiles([FileSpec(remote: "https://example.test/a", local: scratch.path("a"))])
            try await group.resume()
            try #require(try transferNextFile(manager, content: pattern(1000)) != nil)
            try #require(try await group.status().state == .complete)
        }
        #expect(try query(scratch.database, "SELECT count(*) FROM notify_runs") == [["1"]])
        #expect(hook.runs().isEmpty)

        let manager = try scratch.open(scratch.engineConfiguration())
        let first = RunningEngine(manager)
        #expect(try await eventually { try manager.notifyEvents().count == 1 })
        await first.stop()
        let second = RunningEngine(manager)  // a later start owes nothing more
        try await Task.sleep(for: .milliseconds(500))
        await second.stop()

        let completion = try #require(try manager.events(.groupComplete).only)
        #expect(hook.runs().map(\.sequence) == [completion.sequence])
        #expect(try manager.notifyEvents().count == 1)
        #expect(try query(scratch.database, "SELECT count(*) FROM notify_runs") == [["0"]])
    }

    @Test func killingTheEngineProcessWhileTheCommandRunsRunsItAgainAfterTheRestart() async throws {
        let scratch = Scratch()
        let hook = HookScript(scratch, sleepFirst: 60)
        let setup = try scratch.open(scratch.engineConfiguration())
        _ = try await scratch.hookedGroup(setup, hook.command(["after kill"]))
        let engine = try CLI.start(["run", "--plain"], scratch)
        #expect(await eventually(timeout: .seconds(30)) { hook.runs().count == 1 })
        let killed = await engine.finish(timeout: .milliseconds(1))  // SIGKILL: no clean-up of any kind
        #expect(killed.status == 128 + SIGKILL, "\(killed)")
        let orphan = try #require(hook.runs().first)
        kill(-orphan.pid, SIGKILL)  // the first run outlived the engine (its own process group)
        #expect(try query(scratch.database, "SELECT count(*) FROM notify_runs") == [["1"]])

        let manager = try scratch.open(scratch.engineConfiguration())
        let restarted = RunningEngine(manager)
        #expect(try await eventually { try manager.notifyEvents().count == 1 })
        await restarted.stop()

        let completion = try #require(try manager.events(.groupComplete).only)
        let runs = hook.runs()
        #expect(runs.count == 2, "at least once: the interrupted run and the one after the restart")
        #expect(runs.allSatisfy { $0.sequence == completion.sequence && $0.argv.last == "after kill" })
        #expect(try manager.notifyEvents().map(\.detail) == ["event \(completion.sequence): exit 0"])
    }

    @Test func notifyFlagsDecideWhichEventsOweARun() throws {
        let scratch = Scratch()
        let hook = HookScript(scratch)
        let manager = try scratch.open()
        for (name, flags) in [("default", NotifyFlags.default), ("errorsOnly", [.error]), ("disabled", [.groupDone, .error, .disable])] {
            var properties = GroupProperties(displayName: name, notifyFlags: flags)
            properties.notifyCommand = hook.command()
            let group = try manager.createGroup(properties: properties)
            try group.createJob().addFiles([FileSpec(remote: "https://example.test/\(name)", local: scratch.path(name))])
            try group.resume()
            try #require(try transferNextFile(manager, content: pattern(10)) != nil)
        }
        let plain = try manager.createGroup(properties: GroupProperties(displayName: "no command"))
        try plain.createJob().addFiles([FileSpec(remote: "https://example.test/plain", local: scratch.path("plain"))])
        try plain.resume()
        try #require(try transferNextFile(manager, content: pattern(10)) != nil)

        #expect(try manager.events(.groupComplete).count == 4)
        #expect(
            try query(
                scratch.database,
                """
                SELECT g.display_name FROM notify_runs r JOIN events e ON e.seq = r.event_seq JOIN groups g ON g.id = e.group_id
                """) == [["default"]])
    }

    @Test func theCommandIsStoredWithTheGroupReadBackAndCleared() async throws {
        let scratch = Scratch()
        let command = NotifyCommand(program: "/usr/local/bin/on done", arguments: ["a b", "\"q\"", ""])
        let group = try await scratch.open().createGroup(properties: GroupProperties(displayName: "g", notifyCommand: command))
        #expect(try await scratch.open().group(group.id).properties().notifyCommand == command)
        let other = NotifyCommand(program: "/bin/true")
        try await group.setNotifyCommand(other)
        #expect(try await scratch.open().group(group.id).properties().notifyCommand == other)
        try await group.setNotifyCommand(nil)
        #expect(try await group.properties().notifyCommand == nil)
        var properties = try await group.properties()
        properties.notifyCommand = command
        try await group.setProperties(properties)
        #expect(try await group.properties().notifyCommand == command)
    }

    static let badCommands: [(NotifyCommand, String)] = [
        (NotifyCommand(program: "hook.sh"), "hook.sh"),
        (NotifyCommand(program: ""), ""),
        (NotifyCommand(program: "./bin/hook"), "./bin/hook"),
        (NotifyCommand(program: "/bin/ho\nok"), "/bin/ho\nok"),
        (NotifyCommand(program: "/bin/ho\0ok"), "/bin/ho\0ok"),
        (NotifyCommand(program: "/" + String(repeating: "x", count: 4095)), "/" + String(repeating: "x", count: 4095)),
        (NotifyCommand(program: "/bin/true", arguments: ["ok", "a\0b"]), "a\0b"),
        (NotifyCommand(program: "/bin/true", arguments: Array(repeating: "a", count: 257)), "257"),
        (NotifyCommand(program: "/bin/true", arguments: [String(repeating: "a", count: 32_769)]), "32769"),
    ]

    @Test(arguments: badCommands)
    func aBadCommandIsRefusedWithATypedErrorNamingTheValueAndChangesNothing(command: NotifyCommand, value: String) async throws {
        let scratch = Scratch()
        let manager = try scratch.open()
        let group = try await manager.createGroup(properties: GroupProperties(displayName: "g"))
        let before = try tableDigest(scratch.database)
        let direct = try #require(throws: QueueError.self) { try group.setNotifyCommand(command) }
        await #expect(throws: QueueError.self) { try await group.setNotifyCommand(command) }
        var properties = try await group.properties()
        properties.notifyCommand = command
        properties.description = "would change too"
        let whole = try #require(throws: QueueError.self) { try group.setProperties(properties) }
        let created = try #require(throws: QueueError.self) {
            try manager.createGroup(properties: GroupProperties(displayName: "new", notifyCommand: command))
        }
        for error in [direct, whole, created] {
            #expect(error.code == .invalidArgument)
            #expect(error.value == value, "\(error.message)")
            #expect(error.message.contains("notify command"))
        }
        #expect(try tableDigest(scratch.database) == before)
    }

    @Test func upgradingASchema4QueueKeepsItsEventsAndNeverReusesASequenceNumber() throws {
        let scratch = Scratch()
        let files = try FileManager.default.contentsOfDirectory(at: schemaDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }.sorted { $0.lastPathComponent < $1.lastPathComponent }.prefix(4)
        for file in files { try rawExecute(scratch.database, String(contentsOf: file, encoding: .utf8)) }
        try rawExecute(
            scratch.database,
            """
            PRAGMA user_version = 4; PRAGMA application_id = \(Migrator.applicationID);
            INSERT INTO groups (uuid, display_name, created_at, modified_at) VALUES (randomblob(16), 'old', 0, 0);
            INSERT INTO events (at, group_id, kind, state) VALUES (0, 1, 'groupCreated', 'suspended'), (0, 1, 'modified', 'suspended');
            UPDATE sqlite_sequence SET seq = 10 WHERE name = 'events';
            """)
        let manager = try scratch.open()
        #expect(try query(scratch.database, "PRAGMA user_version") == [["\(EmbeddedSchema.migrations.count)"]])
        #expect(try manager.recordedEvents().map(\.sequence) == [1, 2])
        let group = try manager.createGroup(properties: GroupProperties(displayName: "new"))
        #expect(try manager.recordedEvents().map(\.sequence) == [1, 2, 11])
        #expect(try manager.groups().count == 2)
        #expect(try group.properties().notifyCommand == nil)
        #expect(try query(scratch.database, "PRAGMA foreign_key_check") == [])
        #expect(try query(scratch.database, "PRAGMA integrity_check") == [["ok"]])
    }
}
