/*
 * ReadColumn: sums a float64 column of a tablefs table, from Java.
 *
 *   javac -d /tmp/classes examples/java/ReadColumn.java
 *   java -cp /tmp/classes ReadColumn TABLEDIR COLUMN
 *
 * Prints the row count and the sum, e.g.
 *
 *   rows 1000
 *   sum 499500
 *
 * The column is a plain file of little-endian doubles, exactly rows * 8
 * bytes: FileChannel.map gives a MappedByteBuffer over the same shared
 * memory every other process sees (no copy into the Java heap), and
 * order(LITTLE_ENDIAN).asDoubleBuffer() reads it as doubles.  Only the
 * standard library is used; meta.json is read with the few string searches
 * this needs, relying on it being the daemon's generated JSON (one object per
 * column, names that need no escapes).  A real program would use a JSON
 * library.
 *
 * As in the reader protocol, meta.json's version is read before and after:
 * if it changed, the schema or row count changed meanwhile, so read again.
 * (Java's FileChannel.lock takes fcntl record locks, which do not interact
 * with the flock(2) locks of the protocol, so this reader relies on the
 * version alone.)
 */
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public final class ReadColumn {
	/* One mapping covers at most this many bytes (a buffer's limit is an int). */
	private static final long CHUNK = 1L << 30;

	/* What meta.json says about the table and one of its columns. */
	private record Meta(long rows, long version, String file, String dtype, String shape) {
	}

	/* The value of "key" in text: a string's contents, or a number or [...] as written. */
	private static String field(String text, String key) {
		Matcher m = Pattern.compile("\"" + key + "\"\\s*:\\s*(\"([^\"]*)\"|\\[[^\\]]*\\]|[-0-9.eE+]+)")
				.matcher(text);
		if (!m.find())
			return null;
		return m.group(2) != null ? m.group(2) : m.group(1);
	}

	private static Meta readMeta(Path table, String column) throws IOException {
		String json = Files.readString(table.resolve("meta.json"));
		// rows and version come before the column list: look only there for them.
		int cols = json.indexOf("\"columns\"");
		if (cols < 0)
			throw new IOException(table + "/meta.json: no columns");
		String head = json.substring(0, cols);
		String rows = field(head, "rows"), version = field(head, "version");
		if (rows == null || version == null)
			throw new IOException(table + "/meta.json: no rows or version");
		// Each column is one {...} object with no object inside.
		Matcher obj = Pattern.compile("\\{[^{}]*\\}").matcher(json.substring(cols));
		while (obj.find()) {
			String c = obj.group();
			if (column.equals(field(c, "name")))
				return new Meta(Long.parseLong(rows), Long.parseLong(version), field(c, "file"),
						field(c, "dtype"), field(c, "shape").replaceAll("\\s", ""));
		}
		throw new IOException(table + "/meta.json: no column " + column);
	}

	/* The sum of the column, or null if its size is not rows * 8 (it changed). */
	private static Double sum(Path path, long rows) throws IOException {
		try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
			long size = ch.size();
			if (size != rows * Double.BYTES)
				return null;
			double sum = 0;
			for (long at = 0; at < size; at += CHUNK) {
				DoubleBuffer v = ch.map(FileChannel.MapMode.READ_ONLY, at, Math.min(CHUNK, size - at))
						.order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
				while (v.hasRemaining())
					sum += v.get();
			}
			return sum; // the mappings go when the buffers are collected
		}
	}

	public static void main(String[] args) throws IOException {
		if (args.length != 2) {
			System.err.println("usage: java ReadColumn TABLEDIR COLUMN");
			System.exit(2);
		}
		Path table = Path.of(args[0]);
		for (int attempt = 0; attempt < 10; attempt++) {
			Meta m = readMeta(table, args[1]);
			if (!m.dtype().equals("<f8") || !m.shape().equals("[]")) {
				System.err.printf("ReadColumn: %s is %s with row shape %s, not a float64 scalar%n",
						args[1], m.dtype(), m.shape());
				System.exit(1);
			}
			Double sum = sum(table.resolve(m.file()), m.rows());
			if (sum != null && readMeta(table, args[1]).version() == m.version()) {
				System.out.println("rows " + m.rows());
				// Double.toString's digits, without exponent or trailing zeros.
				System.out.println("sum " + BigDecimal.valueOf(sum).stripTrailingZeros().toPlainString());
				return;
			}
		}
		System.err.println("ReadColumn: " + table + " keeps changing; giving up");
		System.exit(1);
	}
}
