using System.Runtime.CompilerServices;

// The unpickler's opcode and limit tests drive it directly with hand-written pickles.
[assembly: InternalsVisibleTo("EfficientNet.Batch.Models.Tests")]
