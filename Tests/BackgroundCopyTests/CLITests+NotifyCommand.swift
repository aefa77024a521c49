import Foundation
import Testing
import TestScheduling
@testable import BackgroundCopy

/// `bgcopy setprop --notify-command` and what `info` shows of it.
@Suite("CLI: notify command", .alone)
struct CLINotifyCommandTests {
    @Test func setpropSetsTheNotifyCommandWithItsArgumentsInfoShowsItAndClearRemovesIt() async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("hooked", scratch)
        try await CLI.ok(
            [
                "setprop", id, "--notify-command", "/opt/hooks/on done", "--notify-arg", "two words",
                "--notify-arg", "--verbose", "--notify-arg", "it's",
            ], scratch)
        var info = try await CLI.info(id, scratch)
        #expect(info["notifyCommand"] as? [String] == ["/opt/hooks/on done", "two words", "--verbose", "it's"])
        let text = try await CLI.ok(["info", id], scratch)
        #expect(text.contains("notify command:") && text.contains(#"'/opt/hooks/on done' 'two words' --verbose 'it'\''s'"#), "\(text)")
        let groupID = try #require(GroupID(id))
        #expect(
            try await scratch.open().group(groupID).properties().notifyCommand
                == NotifyCommand(program: "/opt/hooks/on done", arguments: ["two words", "--verbose", "it's"]))

        try await CLI.ok(["setprop", id, "--name", "renamed"], scratch)
        info = try await CLI.info(id, scratch)
        #expect(info["notifyCommand"] as? [String] == ["/opt/hooks/on done", "two words", "--verbose", "it's"], "other changes keep it")

        try await CLI.ok(["setprop", id, "--clear-notify-command"], scratch)
        info = try await CLI.info(id, scratch)
        #expect(info["notifyCommand"] is NSNull)
        let line = try await CLI.ok(["info", id], scratch).split(separator: "\n").first { $0.hasPrefix("notify command:") }
        #expect(line?.dropFirst("notify command:".count).trimmingCharacters(in: .whitespaces) == "none")
    }

    @Test(arguments: [
        ["--notify-command", "hooks/on-done"], ["--notify-command", ""], ["--notify-arg", "x"],
        ["--notify-command", "/bin/true", "--clear-notify-command"],
    ])
    func setpropRefusesABadNotifyCommandNamingItAndChangesNothing(_ options: [String]) async throws {
        let scratch = Scratch()
        let id = try await CLI.createGroup("strict", scratch)
        let before = try await CLI.run(["info", id, "--json"], scratch).stdout
        let result = try await CLI.run(["setprop", id, "--name", "would change"] + options, scratch)
        #expect(result.status == 2, "\(options): \(result)")
        #expect(result.stderr.contains("notify"), "\(result)")
        if options.first == "--notify-command", let program = options.dropFirst().first, !program.isEmpty, options.count == 2 {
            #expect(result.stderr.contains(program), "the bad value is named: \(result)")
        }
        #expect(try await CLI.run(["info", id, "--json"], scratch).stdout == before)
    }
}
