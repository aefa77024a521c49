import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// The completion hooks as the engine runs them: once per event, without a shell, with the event's
/// sequence in the environment, how each ended recorded as an event.
@Suite("Notify command: the engine runs it", .alone)
struct NotifyCommandTests {
    @Test func theCommandRunsOnceWithTheEventSequenceAndGroupAfterTheGroupCompletes() async throws {
        let scratch = Scratch()
        let hook = HookScript(scratch)
        let manager = try scratch.open(scratch.engineConfiguration())
        let group = try await scratch.hookedGroup(manager, hook.command(["done"]))
        let engine = RunningEngine(manager)
        #expect(try await eventually { try manager.notifyEvents().count == 1 })
        try await Task.sleep(for: .milliseconds(500))  // time for a second run, which must not come
        await engine.stop()

        let completion = try #require(try manager.events(.groupComplete).only)
        let run = try #require(hook.runs().only, "\(hook.runs())")
        #expect(run.sequence == completion.sequence)
        #expect(run.event == "groupComplete")
        #expect(run.groupID == group.id.description)
        #expect(run.queue == scratch.database)
        #expect(run.argv == [hook.path, "done"])
        let finished = try #require(try manager.notifyEvents().only)
        #expect(finished.groupID == group.id)
        #expect(finished.detail == "event \(completion.sequence): exit 0")
        #expect(finished.groupState == .complete)
        #expect(finished.sequence > completion.sequence)
        #expect(try query(scratch.database, "SELECT count(*) FROM notify_runs") == [["0"]])
    }

    @Test func argumentsWithSpacesQuotesAndShellCharactersArriveIntact() async throws {
        let scratch = Scratch()
        let hook = HookScript(scratch, name: "hook with space.sh")
        let arguments = [
            "two words", "it's", "say \"hi\"", "$HOME `id` ; rm -rf / | & > x", "*", "", "tab\there",
            "new\nline", "--flag=value", "ünïcødé ✓",
        ]
        let manager = try scratch.open(scratch.engineConfiguration())
        _ = try await scratch.hookedGroup(manager, hook.command(arguments))
        let engine = RunningEngine(manager)
        #expect(try await eventually { try manager.notifyEvents().count == 1 })
        await engine.stop()

        let run = try #require(hook.runs().only)
        #expect(run.argv == [hook.path] + arguments)
        #expect(try manager.notifyEvents().first?.detail.hasSuffix(": exit 0") == true)
        #expect(!FileManager.default.fileExists(atPath: scratch.path("x")), "no shell interpreted the arguments")
    }

    @Test func aGroupErrorEventRunsTheCommand() async throws {
        let scratch = Scratch()
        let hook = HookScript(scratch)
        let manager = try scratch.open(scratch.engineConfiguration())
        let group = try await scratch.hookedGroup(manager, hook.command(), sha256: String(repeating: "0", count: 64))
        let engine = RunningEngine(manager)
        #expect(try await eventually { try manager.notifyEvents().count == 1 })
        await engine.stop()

        let failure = try #require(try manager.events(.groupError).only)
        let run = try #require(hook.runs().only)
        #expect(run.event == "groupError")
        #expect(run.sequence == failure.sequence)
        #expect(run.groupID == group.id.description)
        #expect(try manager.notifyEvents().first?.groupState == .error)
    }

    @Test func theExitStatusIsRecordedAsANotifyCommandFinishedEvent() async throws {
        let scratch = Scratch()
        let hook = HookScript(scratch, exitStatus: 3)
        let manager = try scratch.open(scratch.engineConfiguration())
        _ = try await scratch.hookedGroup(manager, hook.command())
        let engine = RunningEngine(manager)
        #expect(try await eventually { try manager.notifyEvents().count == 1 })
        await engine.stop()

        let completion = try #require(try manager.events(.groupComplete).only)
        #expect(try manager.notifyEvents().first?.detail == "event \(completion.sequence): exit 3")
        #expect(hook.runs().count == 1, "a failing command is not run again")
        #expect(scratch.log.entries.contains { $0.level == .info && "\($0.message)" == "notify command failed" })
        #expect(!scratch.log.entries.contains { $0.level > .info }, "the library logs at info or below")
    }

    @Test func aProgramThatCannotStartIsRecordedWithItsErrnoAndNotRetried() async throws {
        let scratch = Scratch()
        let manager = try scratch.open(scratch.engineConfiguration())
        _ = try await scratch.hookedGroup(manager, NotifyCommand(program: scratch.path("missing/hook")))
        let engine = RunningEngine(manager)
        #expect(try await eventually { try manager.notifyEvents().count == 1 })
        try await Task.sleep(for: .milliseconds(300))
        await engine.stop()

        let completion = try #require(try manager.events(.groupComplete).only)
        #expect(
            try manager.notifyEvents().map(\.detail)
                == ["event \(completion.sequence): did not start: No such file or directory (errno \(ENOENT))"])
        #expect(try query(scratch.database, "SELECT count(*) FROM notify_runs") == [["0"]])
    }

    @Test func aCommandPastTheTimeoutIsKilledWithItsWholeProcessGroupAndRecordedAsTimedOut() async throws {
        let scratch = Scratch()
        let hook = HookScript(scratch, sleepAlways: 30)
        var configuration = scratch.engineConfiguration()
        configuration.notifyCommandTimeout = .milliseconds(500)
        let manager = try scratch.open(configuration)
        _ = try await scratch.hookedGroup(manager, hook.command())
        let started = ContinuousClock.now
        let engine = RunningEngine(manager)
        #expect(try await eventually(timeout: .seconds(15)) { try manager.notifyEvents().count == 1 })
        await engine.stop()

        #expect(ContinuousClock.now - started < .seconds(10))
        let completion = try #require(try manager.events(.groupComplete).only)
        #expect(try manager.notifyEvents().first?.detail == "event \(completion.sequence): timed out after 0.5 seconds, killed")
        let run = try #require(hook.runs().only)
        #expect(
            await eventually(timeout: .seconds(5)) { livingProcesses(inGroup: run.pid).isEmpty },
            "the script and its sleep are gone: \(livingProcesses(inGroup: run.pid))")
    }

    @Test func stoppingTheEngineStopsARunningCommandAndTheNextEngineRunsItAgain() async throws {
        let scratch = Scratch()
        let hook = HookScript(scratch, sleepFirst: 30)
        let manager = try scratch.open(scratch.engineConfiguration())
        _ = try await scratch.hookedGroup(manager, hook.command())
        let first = RunningEngine(manager)
        #expect(await eventually { hook.runs().count == 1 })
        let stopping = ContinuousClock.now
        await first.stop()
        #expect(ContinuousClock.now - stopping < .seconds(5), "the engine does not wait for the command's end")
        #expect(try manager.notifyEvents().isEmpty)
        #expect(try query(scratch.database, "SELECT count(*) FROM notify_runs") == [["1"]])

        let second = RunningEngine(manager)
        #expect(try await eventually { try manager.notifyEvents().count == 1 })
        await second.stop()
        let runs = hook.runs()
        #expect(runs.count == 2)
        #expect(Set(runs.map(\.sequence)).count == 1, "both runs carry the one event's sequence")
        #expect(try manager.notifyEvents().first?.detail.hasSuffix(": exit 0") == true)
    }
}

/// The processes of process group `group` that are not zombies (from `/proc`; none where there is no `/proc`).
func livingProcesses(inGroup group: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        // After "(name)": state, ppid, pgrp, …
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && fields[0] != "Z" && Int32(fields[2]) == group
    }
}

extension Array {
    /// The one element, or `nil` when there are none or several.
    var only: Element? { count == 1 ? first : nil }
}
