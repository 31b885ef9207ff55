import Foundation
@testable import Gateway
import Secrets
import Testing

@Suite("Upload rules: content sniffing, file names, multipart headers, sealing")
struct UploadRulesTests {
    @Test("PDF, PNG, JPEG, GIF and WebP are recognised by their first bytes")
    func magicNumbers() {
        #expect(ContentSniffer.sniff(SampleFiles.pdf()) == .pdf)
        #expect(ContentSniffer.sniff(SampleFiles.png()) == .png)
        #expect(ContentSniffer.sniff(SampleFiles.jpeg) == .jpeg)
        #expect(ContentSniffer.sniff(Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0]) == .gif)
        #expect(ContentSniffer.sniff(Array("RIFF".utf8) + [4, 0, 0, 0] + Array("WEBPVP8 ".utf8)) == .webp)
        #expect(ContentSniffer.sniff(Array("RIFF".utf8) + [4, 0, 0, 0] + Array("WAVEfmt ".utf8)) == nil, "a RIFF that is not WebP")
    }

    @Test("Office Open XML documents are told apart by the folders inside the zip")
    func officeDocuments() throws {
        #expect(ContentSniffer.sniff(try SampleFiles.office("word")) == .docx)
        #expect(ContentSniffer.sniff(try SampleFiles.office("xl")) == .xlsx)
        #expect(ContentSniffer.sniff(try SampleFiles.office("ppt")) == .pptx)
    }

    @Test("a plain zip, a macro-enabled document, a zip claiming two applications and a damaged zip are refused")
    func otherZips() throws {
        #expect(ContentSniffer.sniff(try SampleFiles.zip([("readme.txt", "hello"), ("word/x.xml", "<x/>")])) == nil,
                "no [Content_Types].xml")
        #expect(ContentSniffer.sniff(try SampleFiles.office("word", extra: [("word/vbaProject.bin", "macro")])) == nil)
        #expect(ContentSniffer.sniff(try SampleFiles.office("word", extra: [("xl/workbook.xml", "<w/>")])) == nil)
        let docx = try SampleFiles.office("word")
        #expect(ContentSniffer.sniff(Array(docx.prefix(docx.count - 30))) == nil, "the end of the archive cut off")
        #expect(ContentSniffer.sniff([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0xFF, count: 100)) == nil)
    }

    @Test("UTF-8 text without NUL or stray control characters is text; anything else is refused")
    func text() {
        #expect(ContentSniffer.sniff(Array("name,affiliation\r\n张三,北京大学\n\tend\u{0C}".utf8)) == .text)
        #expect(ContentSniffer.sniff(Array("abc".utf8) + [0x00] + Array("def".utf8)) == nil, "a NUL")
        #expect(ContentSniffer.sniff(Array("abc".utf8) + [0x1B]) == nil, "a control character")
        #expect(ContentSniffer.sniff([0x61, 0xC3, 0x28]) == nil, "invalid UTF-8")
        #expect(ContentSniffer.sniff([0xFE, 0xED, 0xFA, 0xCE, 0x01]) == nil, "garbage")
        #expect(ContentSniffer.sniff([]) == nil, "nothing")
    }

    @Test("an executable is refused whatever it is called or claims to be")
    func executables() {
        #expect(ContentSniffer.sniff(SampleFiles.elf) == nil)
        #expect(ContentSniffer.sniff(SampleFiles.exe) == nil)
        #expect(UploadFileName.sanitize("cv.pdf", type: .pdf) == "cv.pdf", "the name is not what decides")
    }

    @Test("file names lose paths, control and bidirectional characters and reserved punctuation, and keep their letters")
    func fileNames() {
        #expect(UploadFileName.sanitize("C:\\Users\\张三\\护照.jpg", type: .jpeg) == "护照.jpg")
        #expect(UploadFileName.sanitize("../../etc/passwd.txt", type: .text) == "passwd.txt")
        #expect(UploadFileName.sanitize("invoice\u{202E}fdp.exe", type: .pdf) == "invoicefdp.exe.pdf")
        #expect(UploadFileName.sanitize("a\u{0}b\nc  \t d<>:\"|?*.PDF", type: .pdf) == "abc d_______.PDF")
        #expect(UploadFileName.sanitize("...hidden.png", type: .png) == "hidden.png")
        #expect(UploadFileName.sanitize("photo.jpeg", type: .jpeg) == "photo.jpeg")
    }

    @Test("a name without a fitting extension gets one; an empty or missing name becomes upload.<ext>; long names are cut")
    func fileNameExtensionsAndLength() {
        #expect(UploadFileName.sanitize("cv.exe", type: .pdf) == "cv.exe.pdf")
        #expect(UploadFileName.sanitize("scan", type: .png) == "scan.png")
        #expect(UploadFileName.sanitize(nil, type: .docx) == "upload.docx")
        #expect(UploadFileName.sanitize(" / ", type: .text) == "upload.txt")
        #expect(UploadFileName.sanitize("\u{202E}", type: .gif) == "upload.gif")
        let long = UploadFileName.sanitize(String(repeating: "论", count: 300) + ".pdf", type: .pdf)
        #expect(long.count == UploadFileName.maximumCharacters && long.hasSuffix(".pdf"))
        #expect(UploadFileName.neutral(for: .jpeg) == "identity-document.jpg")
    }

    @Test("downloads are attachments with an ASCII fallback name and the exact UTF-8 name")
    func contentDisposition() {
        #expect(DownloadDisposition.attachment(fileName: "护照 scan.pdf")
            == "attachment; filename=\"__ scan.pdf\"; filename*=UTF-8''%E6%8A%A4%E7%85%A7%20scan.pdf")
        #expect(DownloadDisposition.attachment(fileName: "a\"b.txt") == "attachment; filename=\"a_b.txt\"; filename*=UTF-8''a%22b.txt")
    }

    @Test("the boundary is read from multipart/form-data only; part names and file names from Content-Disposition")
    func multipartHeaders() {
        #expect(MultipartHeaders.boundary(contentType: "multipart/form-data; boundary=----x1") == "----x1")
        #expect(MultipartHeaders.boundary(contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\"") == "a b;c")
        #expect(MultipartHeaders.boundary(contentType: "multipart/mixed; boundary=x") == nil)
        #expect(MultipartHeaders.boundary(contentType: "multipart/form-data") == nil)
        #expect(MultipartHeaders.boundary(contentType: "multipart/form-data; boundary=" + String(repeating: "b", count: 71)) == nil)

        let plain = MultipartHeaders.disposition("form-data; name=\"file\"; filename=\"a; b=\\\"c\\\".pdf\"")
        #expect(plain == .init(type: "form-data", name: "file", fileName: "a; b=\"c\".pdf"))
        let extended = MultipartHeaders.disposition("form-data; name=file; filename=\"fallback.pdf\"; filename*=UTF-8''%E8%AE%BA%E6%96%87.pdf")
        #expect(extended.fileName == "论文.pdf")
        #expect(MultipartHeaders.disposition("form-data; name=\"purpose\"").fileName == nil)
        #expect(MultipartHeaders.disposition("form-data; name=f; filename*=ISO-8859-1''x.pdf; filename=y.pdf").fileName == "y.pdf")
    }

    @Test("an identity document sealed for storage opens only for its own upload, and the key id leads the bytes")
    func sealedUploads() throws {
        let box = try SecretBox(current: SecretBox.generateKey())
        let document = SampleFiles.png(payload: Array("PASSPORT P<CHNZHANG<<SAN".utf8))
        let (one, two) = (UUID(), UUID())
        let sealed = try box.seal(bytes: document, context: UploadVault.context(one))
        #expect(sealed.starts(with: Array(box.sealedPrefix.utf8)))
        #expect(try box.open(bytes: sealed, context: UploadVault.context(one)) == document)
        #expect(throws: SecretBox.Failure.self) { try box.open(bytes: sealed, context: UploadVault.context(two)) }
        #expect(ContentSniffer.sniff(sealed) != .png, "sealed, the bytes are no longer a PNG")
    }
}
