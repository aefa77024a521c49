/// Validation of a group's notify command (BITS: SetNotifyCmdLine).
extension Validator {
    static let maxNotifyArguments = 256
    static let maxNotifyArgumentBytes = 32_768

    /// Refuses a program path that is not absolute, is empty, too long or holds a control
    /// character, and arguments that hold NUL or are too many or too long together. The program
    /// need not exist yet: a command that cannot start is recorded when it is run.
    func validate(_ command: NotifyCommand) throws(QueueError) {
        let program = command.program
        guard program.hasPrefix("/") else {
            throw .invalidArgument("notify command program '\(program)' is not an absolute path", value: program)
        }
        guard program.utf8.count <= Self.maxPathBytes else {
            throw .invalidArgument("notify command program is \(program.utf8.count) bytes; at most \(Self.maxPathBytes) allowed", value: program)
        }
        if let scalar = Self.firstControl(in: program, allowing: []) {
            throw .invalidArgument("notify command program contains control character \(Self.hex(scalar))", value: program)
        }
        guard command.arguments.count <= Self.maxNotifyArguments else {
            throw .invalidArgument(
                "notify command has \(command.arguments.count) arguments; at most \(Self.maxNotifyArguments) allowed",
                value: "\(command.arguments.count)")
        }
        var total = 0
        for (index, argument) in command.arguments.enumerated() {
            guard !argument.utf8.contains(0) else {
                throw .invalidArgument("notify command argument \(index) contains a NUL byte", value: argument)
            }
            total += argument.utf8.count
        }
        guard total <= Self.maxNotifyArgumentBytes else {
            throw .invalidArgument(
                "notify command arguments are \(total) bytes together; at most \(Self.maxNotifyArgumentBytes) allowed",
                value: "\(total)")
        }
    }
}
