import ArgumentParser
import BackgroundCopy
import Foundation

/// `bgcopy`: the operator's command line for a BackgroundCopy queue (bitsadmin's counterpart).
///
/// Exit codes: 0 success, 1 the operation failed, 2 usage error (bad option or value, ambiguous
/// GROUP), 3 not found, 130 interrupted by Ctrl-C (143 by SIGTERM). See "The bgcopy command line" (Documentation.docc/CommandLineTool.md).
@main
struct BGCopy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bgcopy",
        abstract: "Steer a BackgroundCopy transfer queue.",
        discussion: """
            The queue is the database chosen by --db PATH, else $BGCOPY_DB, else \
            $XDG_DATA_HOME/bgcopy/queue.sqlite (~/.local/share/bgcopy/queue.sqlite), created on first use.
            GROUP is a group ID, a unique ID prefix or a unique display name.
            Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 not found, 130 interrupted.
            """,
        version: BGCopy.version,
        subcommands: [
            Create.self, List.self, Info.self, Files.self, Add.self,
            Suspend.self, Resume.self, Cancel.self, Foreground.self, SetProp.self, Purge.self,
            Run.self, Monitor.self, Events.self, Download.self, Demo.self, Wait.self, Check.self,
        ]
    )

    /// What `bgcopy --version` prints.
    static let version = "0.1.0"

    /// Parses and runs a command, mapping every error to one line on stderr and a documented exit code.
    /// Bare `bgcopy` (no command) prints the help on stderr and exits 2, as a usage error.
    static func main() async {
        if CommandLine.arguments.count <= 1 {
            Console.error(helpMessage())
            Foundation.exit(ExitStatus.usage.rawValue)
        }
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            Failure.exit(with: error)
        }
    }
}
