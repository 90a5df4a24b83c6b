import Foundation

/// Comma-separated values as RFC 4180 has them: fields with commas, quotes or line breaks are
/// quoted, a quote inside a quoted field is doubled, lines end with LF or CRLF. Every CSV vidclass
/// reads (datasets, corrections, label outputs) and writes (label outputs, timelines) goes
/// through here.
public enum CSV {
    /// The records of `text`, each a list of fields (a quoted field may span lines). Blank lines
    /// are skipped.
    public static func records(_ text: String) -> [[String]] {
        var records: [[String]] = []
        var record: [String] = [], field = "", quoted = false, fieldWasQuoted = false
        var characters = text.makeIterator()
        func endRecord() {
            record.append(field)
            if !(record.count == 1 && record[0].isEmpty && !fieldWasQuoted) { records.append(record) }
            record = []
            field = ""
            fieldWasQuoted = false
        }
        while let c = characters.next() {
            if quoted {
                if c == "\"" {
                    var lookahead = characters
                    if lookahead.next() == "\"" {
                        field.append("\"")
                        characters = lookahead
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty:
                quoted = true
                fieldWasQuoted = true
            case ",":
                record.append(field)
                field = ""
                fieldWasQuoted = false
            case "\n", "\r\n", "\r":
                endRecord()
            default:
                field.append(c)
            }
        }
        if !field.isEmpty || !record.isEmpty || fieldWasQuoted { endRecord() }
        return records
    }

    /// One field, quoted when it holds a comma, a quote or a line break.
    public static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One line: the fields quoted as needed, joined by commas (no line break).
    public static func line(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",")
    }
}

/// A CSV of named columns, as the dataset, correction and annotation files have them: fields
/// trimmed of surrounding spaces, and a header when the first record names a `path` column
/// (names lowercased); without a header, columns are known by position.
struct CSVTable {
    /// One record after the header.
    struct Row {
        /// 1-based record number in the file (the header counts), for messages.
        let number: Int
        /// The fields as written.
        let raw: [String]
        /// The fields trimmed of surrounding spaces.
        let fields: [String]
        let header: [String]?

        /// The named column's value (or, without a header, the one at `position`); nil when the
        /// record has no such column or it is empty.
        func field(_ name: String, position: Int? = nil, trimmed: Bool = true) -> String? {
            let i = header.map { $0.firstIndex(of: name) } ?? position
            guard let i, i < fields.count, !fields[i].isEmpty else { return nil }
            return trimmed ? fields[i] : raw[i]
        }

        /// Whether every field is empty.
        var isBlank: Bool { fields.allSatisfy(\.isEmpty) }
    }

    /// The column names, lowercased, when the first record names a `path` column.
    let header: [String]?
    /// The records after the header.
    let rows: [Row]

    init(_ text: String) {
        let records = CSV.records(text)
        let first = records.first?.map { $0.trimmingCharacters(in: .whitespaces) }
        let header = first.flatMap { $0.contains { $0.lowercased() == "path" } ? $0.map { $0.lowercased() } : nil }
        self.header = header
        rows = records.enumerated().dropFirst(header == nil ? 0 : 1).map { n, record in
            Row(number: n + 1, raw: record, fields: record.map { $0.trimmingCharacters(in: .whitespaces) }, header: header)
        }
    }

    /// A path named in the file at `file`: absolute as written, or relative to the file's folder.
    static func path(_ name: String, inFileAt file: String) -> String {
        let base = (file as NSString).deletingLastPathComponent
        return name.hasPrefix("/") || base.isEmpty ? name : base + "/" + name
    }
}
