import Contracts
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading migration files with POSIX calls keeps Persistence on FoundationEssentials.
enum FileListing {
    static func files(in directory: String) throws -> [String] {
        guard let handle = opendir(directory) else {
            throw ConveneError(code: "migration.folder_missing", message: "cannot open migrations folder \(directory)")
        }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConveneError(code: "migration.unreadable", message: "cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
