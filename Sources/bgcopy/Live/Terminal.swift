/// ANSI escape sequences for redrawing a live display in place.
enum Terminal {
    static let hideCursor = "\u{1B}[?25l"
    static let showCursor = "\u{1B}[?25h"
    /// Clears from the cursor to the end of the screen.
    static let clearBelow = "\u{1B}[J"
    /// Clears the whole line the cursor is on.
    static let clearLine = "\u{1B}[2K"

    /// Moves the cursor to the start of the line `count` lines up.
    static func up(_ count: Int) -> String { count > 0 ? "\u{1B}[\(count)F" : "\r" }
}

/// Redraws a block of lines in place on a terminal: each frame replaces the previous one.
struct RedrawingBlock {
    private var drawn = 0

    /// Replaces the previous frame with `lines`, each cut to the terminal's width so none wraps.
    mutating func draw(_ lines: [String]) {
        let width = max(20, Console.columns - 1)
        var text = drawn == 0 ? Terminal.hideCursor : Terminal.up(drawn)
        for line in lines { text += Terminal.clearLine + Format.fit(line, width) + "\n" }
        text += Terminal.clearBelow
        drawn = lines.count
        Console.write(text)
    }

    /// Leaves the last frame on screen and shows the cursor again.
    mutating func end() {
        Console.write(Terminal.showCursor)
        drawn = 0
    }
}
