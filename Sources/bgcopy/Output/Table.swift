/// A plain-text table: a header row and rows of cells, columns padded to their widest cell.
struct Table {
    /// How a column's cells line up.
    enum Alignment {
        case left
        case right
    }

    /// One column: its header, alignment, and the most characters a cell may keep.
    struct Column {
        let header: String
        var alignment: Alignment = .left
        var maxWidth: Int = .max
    }

    let columns: [Column]
    private(set) var rows: [[String]] = []

    init(_ columns: [Column]) {
        self.columns = columns
    }

    mutating func append(_ row: [String]) {
        precondition(row.count == columns.count, "a row needs one cell per column")
        rows.append(row)
    }

    /// The table as lines, two spaces between columns, no trailing spaces.
    func render() -> [String] {
        let cells = ([columns.map(\.header)] + rows).map { row in
            zip(row, columns).map { Format.fit($0, $1.maxWidth) }
        }
        let widths = columns.indices.map { index in cells.map { $0[index].count }.max() ?? 0 }
        return cells.map { row in
            var line = ""
            for (index, cell) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[index] - cell.count)
                if index > 0 { line += "  " }
                line += columns[index].alignment == .left ? cell + padding : padding + cell
            }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }
}
