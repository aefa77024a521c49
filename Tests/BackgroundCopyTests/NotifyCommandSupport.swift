import Foundation
@testable import BackgroundCopy

/// One run of a ``HookScript``: what the command saw.
struct HookRun: Sendable, Equatable {
    let sequence: Int64?
    let event: String
    let groupID: String
    let queue: String
    /// The shell's process ID, which is also the command's process group (the engine starts it in one of its own).
    let pid: Int32
    /// `$0` and every argument, as received.
    let argv: [String]
}

/// A notify command for the tests: a script whose interpreter is `/bin/sh` (the test's choice —
/// the engine executes the script itself, through its `#!` line, never through a shell) that
/// records each run, NUL-separated so any argument survives, in a file of its own under `runs/`.
struct HookScript {
    let path: String
    let runsDirectory: String

    /// - Parameters:
    ///   - exitStatus: What the script exits with.
    ///   - sleepFirst: Seconds the first run sleeps after recording itself (later runs do not).
    ///   - sleepAlways: Seconds every run sleeps after recording itself.
    init(_ scratch: Scratch, name: String = "hook.sh", exitStatus: Int32 = 0, sleepFirst: Int? = nil, sleepAlways: Int? = nil) {
        path = scratch.path(name)
        runsDirectory = scratch.path("\(name).runs")
        try! FileManager.default.createDirectory(atPath: runsDirectory, withIntermediateDirectories: true)
        // The first run is marked before it records itself: a test that sees the record and stops
        // the engine at once must find the mark there, or the run after it would sleep too.
        var lines = ["#!/bin/sh", "runs='\(runsDirectory)'", "first=no"]
        if sleepFirst != nil {
            lines.append(#"if [ ! -e "$runs/.slept" ]; then : > "$runs/.slept"; first=yes; fi"#)
        }
        lines += [
            #"printf '%s\0' "$BGCOPY_EVENT_SEQUENCE" "$BGCOPY_EVENT" "$BGCOPY_GROUP_ID" "$BGCOPY_QUEUE" "$$" "$0" "$@" > "$runs/.$$.tmp""#,
            #"mv "$runs/.$$.tmp" "$runs/run-$$""#,
        ]
        if let sleepFirst {
            lines.append(#"if [ "$first" = yes ]; then sleep \#(sleepFirst); fi"#)
        }
        if let sleepAlways { lines.append("sleep \(sleepAlways)") }
        lines.append("exit \(exitStatus)")
        FileManager.default.createFile(
            atPath: path, contents: Data((lines.joined(separator: "\n") + "\n").utf8),
            attributes: [.posixPermissions: 0o755])
    }

    /// The command running this script with `arguments`.
    func command(_ arguments: [String] = []) -> NotifyCommand {
        NotifyCommand(program: path, arguments: arguments)
    }

    /// Every run recorded so far, by process ID.
    func runs() -> [HookRun] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runsDirectory)) ?? []
        return names.filter { $0.hasPrefix("run-") }.compactMap { name -> HookRun? in
            guard let data = FileManager.default.contents(atPath: "\(runsDirectory)/\(name)") else { return nil }
            var fields = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            if fields.last == "" { fields.removeLast() }
            guard fields.count >= 6 else { return nil }
            return HookRun(
                sequence: Int64(fields[0]), event: fields[1], groupID: fields[2], queue: fields[3],
                pid: Int32(fields[4]) ?? 0, argv: Array(fields[5...]))
        }.sorted { $0.pid < $1.pid }
    }
}

extension QueueManager {
    /// The recorded `notifyCommandFinished` events.
    func notifyEvents() throws -> [QueueEvent] {
        try recordedEvents(limit: 100_000).filter { $0.kind == .notifyCommandFinished }
    }

    /// The recorded events of `kind`.
    func events(_ kind: EventKind) throws -> [QueueEvent] {
        try recordedEvents(limit: 100_000).filter { $0.kind == kind }
    }
}

extension Scratch {
    /// A group with one local file to copy and `command` as its notify command, resumed.
    func hookedGroup(
        _ manager: QueueManager, _ command: NotifyCommand, name: String = "hooked", sha256: String? = nil,
        notifyFlags: NotifyFlags = .default
    ) async throws -> Group {
        var properties = quickRetries(name)
        properties.notifyCommand = command
        properties.notifyFlags = notifyFlags
        let group = try await manager.createGroup(properties: properties)
        let source = self.source("\(name).src", size: 20_000)
        try await group.createJob().addFiles([FileSpec(remote: source, local: path(name), sha256: sha256)])
        try await group.resume()
        return group
    }
}
