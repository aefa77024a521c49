import Foundation

/// A program the engine runs after each `groupComplete` and `groupError` event of a group that
/// its notify flags let through (BITS: SetNotifyCmdLine; aria2: `--on-download-complete`).
///
/// The program is executed directly — no shell, so arguments arrive exactly as given, spaces and
/// quotes included — with stdin, stdout and stderr on `/dev/null`, the engine's environment and
/// working directory, and these variables added:
///
/// | variable | value |
/// |---|---|
/// | `BGCOPY_EVENT_SEQUENCE` | the event's ``QueueEvent/sequence`` |
/// | `BGCOPY_EVENT` | `groupComplete` or `groupError` |
/// | `BGCOPY_GROUP_ID` | the group's ID |
/// | `BGCOPY_QUEUE` | the database path |
///
/// It runs at least once per event: a crash between the event's commit and the end of the command
/// runs it again at the next engine start, so a command that must act once deduplicates on
/// `BGCOPY_EVENT_SEQUENCE`. How it ended is recorded as an ``EventKind/notifyCommandFinished`` event.
public struct NotifyCommand: Sendable, Hashable, Codable {
    /// The absolute path of the program (it becomes `argv[0]`); at most 4,095 bytes, no control characters.
    public var program: String
    /// The arguments after the program: at most 256, together at most 32,768 bytes, no NUL.
    public var arguments: [String]

    /// A command running `program` with `arguments`.
    public init(program: String, arguments: [String] = []) {
        self.program = program
        self.arguments = arguments
    }

    /// `program` followed by `arguments`, the `argv` the program receives.
    public var argv: [String] { [program] + arguments }
}

extension NotifyCommand {
    /// The stored form: a JSON array of strings, the program first.
    var stored: String {
        let data = (try? JSONEncoder().encode(argv)) ?? Data("[]".utf8)  // encoding an array of strings cannot fail
        return String(decoding: data, as: UTF8.self)
    }

    /// The command a stored JSON array describes; `nil` for anything else.
    init?(stored: String) {
        guard let argv = try? JSONDecoder().decode([String].self, from: Data(stored.utf8)),  // not our JSON: no command, as documented
            let program = argv.first
        else {
            return nil
        }
        self.init(program: program, arguments: Array(argv.dropFirst()))
    }
}
