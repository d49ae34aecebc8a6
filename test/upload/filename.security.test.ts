import { describe, expect, it } from 'vitest';
import { checkFilename } from '../../src/upload/filename.js';

describe('checkFilename', () => {
  it.each([
    ['../../etc/passwd', 'traversal'],
    ['..\\..\\windows\\win.ini', 'traversal'],
    ['/etc/passwd', 'path'],
    ['C:evil.png', 'path'],
    ['a.php\u0000.jpg', 'control'],
    ['a.php%00.jpg', 'encoded'],
    ['..%2f..%2fetc%2fpasswd', 'encoded'],
    ['a.php\u0000.jpg', 'double-extension'],
    ['invoice.pdf.exe', 'executable'],
    ['shell.php', 'executable'],
    ['report.exe.pdf', 'double-extension'],
    ['invoice\u202egpj.exe', 'bidi'],
    ['photo\u2024php', 'confusable'],
    ['cat\uff0ejpg', 'confusable'],
    ['a\u200bb.png', 'confusable'],
    ['CON.jpg', 'reserved'],
    ['lpt1', 'reserved'],
    ['photo.png.', 'trailing-dot'],
    ['.htaccess', 'path'],
    ['line\nbreak.png', 'control'],
    ['', 'empty'],
    [`${'a'.repeat(300)}.png`, 'too-long'],
  ])('refuses %j (%s)', (name, problem) => {
    expect(checkFilename(name).problems).toContain(problem);
  });

  it.each(['cat.png', 'Mon chat été.jpg', 'photo-2024_01.jpeg', '猫.png', 'archive.tar.gz', 'résumé.pdf', 'console.png'])('accepts %j', (name) => {
    expect(checkFilename(name).problems).toEqual([]);
  });

  it('gives a sanitised base name for logs', () => {
    expect(checkFilename('../../etc/passwd').sanitized).toBe('passwd');
    expect(checkFilename('a\u202eb<c>.png').sanitized).toBe('ab_c_.png');
    expect(checkFilename('Photo.JPG').extension).toBe('jpg');
  });
});
