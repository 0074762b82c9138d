// Prints a Parquet file with hyparquet, a reader independent of Parquet.Net, for the Components tests
// (ParquetOutputFormatTests).
//   node read.mjs FILE            one JSON object per row, in file order
//   node read.mjs --schema FILE   one JSON line: row count, row group sizes and the schema elements
// Exits non-zero, with the reason on stderr, when the file cannot be read.
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet'

const args = process.argv.slice(2)
const schemaOnly = args[0] === '--schema'
const path = schemaOnly ? args[1] : args[0]
if (!path) {
  console.error('usage: node read.mjs [--schema] FILE')
  process.exit(2)
}

const json = (value) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v))
const out = []
const file = await asyncBufferFromFile(path)
if (schemaOnly) {
  const metadata = await parquetMetadataAsync(file)
  out.push(json({
    rows: Number(metadata.num_rows),
    rowGroups: metadata.row_groups.map((g) => Number(g.num_rows)),
    schema: metadata.schema.map((e) => ({
      name: e.name,
      type: e.type ?? null,
      repetition: e.repetition_type ?? null,
      converted: e.converted_type ?? null,
      logical: e.logical_type?.type ?? null,
      children: e.num_children ?? null,
    })),
  }))
} else {
  for (const row of await parquetReadObjects({ file })) {
    out.push(json(row))
  }
}
if (out.length > 0) {
  process.stdout.write(out.join('\n') + '\n')
}
