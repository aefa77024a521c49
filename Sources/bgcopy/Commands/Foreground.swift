import ArgumentParser
import BackgroundCopy

/// `bgcopy foreground GROUP` (SwitchToForeground): the group transfers at foreground priority from now on.
struct Foreground: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Switch a group to foreground priority (transfers first, never throttled).")

    @OptionGroup var queue: QueueOptions

    @Argument(help: "The group: an ID, a unique ID prefix or a unique display name.")
    var group: String

    func run() throws {
        let manager = try queue.open()
        let group = try GroupResolver(manager: manager).resolve(group)
        try group.switchToForeground()
        Console.line("\(group.id) is a foreground group")
    }
}
