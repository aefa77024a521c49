import ArgumentParser
import BackgroundCopy
import Foundation

/// The exit statuses `bgcopy` documents ("The bgcopy command line", Documentation.docc/CommandLineTool.md).
enum ExitStatus: Int32, Sendable {
    /// The command did what it was asked.
    case success = 0
    /// The operation failed: the queue refused it (nothing to resume, directory not writable,
    /// another engine running, …), a transfer failed, or the database could not be used.
    case failure = 1
    /// The command line was wrong: an unknown option, a malformed or refused value, an ambiguous GROUP.
    case usage = 2
    /// The group (or file, job) named does not exist or was cancelled.
    case notFound = 3
    /// Stopped by Ctrl-C (SIGINT) after a clean shutdown.
    case interrupted = 130
    /// Stopped by SIGTERM after a clean shutdown.
    case terminated = 143
}

/// An error of the command line itself: one line for stderr, the exit status and an optional hint.
struct CLIError: Error, Sendable {
    let status: ExitStatus
    let message: String
    let hint: String?

    init(_ status: ExitStatus, _ message: String, hint: String? = nil) {
        self.status = status
        self.message = message
        self.hint = hint
    }

    /// A value on the command line or in an input file that cannot be used.
    static func usage(_ message: String, hint: String? = nil) -> CLIError { CLIError(.usage, message, hint: hint) }

    /// A group that was resolved but cancelled (by another process) before it could be read.
    static func cancelledMeanwhile(_ id: GroupID) -> CLIError {
        CLIError(.notFound, "group \(id) was cancelled meanwhile", hint: "`bgcopy list --all` shows the live groups")
    }
}

/// Leaving with an error: `bgcopy: error: …` (and `hint: …`) on stderr and the matching exit status.
enum Failure {
    /// The exit status for a queue error: `notFound` 3; refused values (`invalidArgument`,
    /// `alreadyExists`) 2; everything else 1.
    static func status(for error: QueueError) -> ExitStatus {
        switch error.code {
        case .notFound: .notFound
        case .invalidArgument, .alreadyExists: .usage
        default: .failure
        }
    }

    /// A suggestion printed after the error line, where one helps.
    static func hint(for error: QueueError) -> String? {
        switch error.code {
        case .notFound: "`bgcopy list --all` shows the live groups"
        case .empty: "add files first: `bgcopy add GROUP REMOTE LOCAL`"
        case .invalidState where error.message.contains("engine"):
            "another process runs the transfer engine on this queue; `bgcopy monitor` watches it"
        case .accessDenied: "the local directory must exist and be writable"
        case .incompatibleDatabase: "choose another queue with --db PATH or $BGCOPY_DB"
        default: nil
        }
    }

    /// Prints the error and exits with its status. Never returns.
    static func exit(with error: any Error) -> Never {
        switch error {
        case let error as CLIError:
            report(error.message, hint: error.hint)
            Foundation.exit(error.status.rawValue)
        case let error as QueueError:
            var message = error.message
            if let code = error.sqliteResultCode { message += " (SQLite result code \(code))" }
            report(message, hint: hint(for: error))
            Foundation.exit(status(for: error).rawValue)
        case let error as ExitCode:
            Foundation.exit(error.rawValue)
        default:
            let code = BGCopy.exitCode(for: error)
            if code == .success {  // --help, --version
                let text = BGCopy.fullMessage(for: error)
                if !text.isEmpty { print(text) }
                Foundation.exit(ExitStatus.success.rawValue)
            }
            // A parse or validation error: ArgumentParser's message alone, on one line (its full
            // message adds the usage block); `--help` shows the usage.
            let message = BGCopy.message(for: error)
            report(message.isEmpty ? "invalid command line" : message, hint: "`bgcopy help` or `bgcopy COMMAND --help` shows the usage")
            Foundation.exit(ExitStatus.usage.rawValue)
        }
    }

    private static func report(_ message: String, hint: String?) {
        Console.error("bgcopy: error: " + message.replacingOccurrences(of: "\n", with: " "))
        if let hint { Console.error("hint: " + hint) }
    }
}
