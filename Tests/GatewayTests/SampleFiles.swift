import Foundation
import ZIPFoundation

/// Small real files of each kind the upload tests send, made here rather than stored.
enum SampleFiles {
    /// A one-page PDF; `marker` ends up in its content stream, so two samples can differ.
    static func pdf(_ marker: String = "Convene") -> [UInt8] {
        Array("""
            %PDF-1.4
            1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
            2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
            3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >> endobj
            4 0 obj << /Length 30 >> stream
            BT (\(marker)) Tj ET
            endstream endobj
            trailer << /Root 1 0 R >>
            %%EOF

            """.utf8)
    }

    /// A PNG signature, an IHDR chunk of a 1×1 image and `payload` as a private chunk's data.
    static func png(payload: [UInt8] = []) -> [UInt8] {
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A,
         0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
         0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89]
            + bigEndian(UInt32(payload.count)) + Array("prVt".utf8) + payload + [0, 0, 0, 0]
            + [0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
    }

    /// The start of a JFIF JPEG.
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
                                0x00, 0x01, 0x00, 0x00, 0xFF, 0xD9]

    /// The start of an x86-64 Linux executable.
    static let elf: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00] + [UInt8](repeating: 0, count: 8)
        + [0x02, 0x00, 0x3E, 0x00, 0x01, 0x00, 0x00, 0x00] + [UInt8](repeating: 0x90, count: 40)

    /// A Windows executable's MZ header.
    static let exe: [UInt8] = Array("MZ".utf8) + [0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04, 0x00] + [UInt8](repeating: 0, count: 50)

    /// A zip archive of `entries` (path → text).
    static func zip(_ entries: [(String, String)]) throws -> [UInt8] {
        let archive = try Archive(data: Data(), accessMode: .create)
        for (path, text) in entries {
            let bytes = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate) {
                position, size in bytes.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return Array(archive.data ?? Data())
    }

    /// An Office Open XML package with the application folder `folder` (`word`, `xl`, `ppt`).
    static func office(_ folder: String, extra: [(String, String)] = []) throws -> [UInt8] {
        try zip([("[Content_Types].xml", "<?xml version=\"1.0\"?><Types/>"), ("_rels/.rels", "<Relationships/>"),
                 ("\(folder)/document.xml", "<document/>")] + extra)
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
