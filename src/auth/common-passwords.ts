/**
 * Passwords that appear at the top of every breach corpus (SecLists' 10k-most-common, NCSC's 100k),
 * lower-cased. A short list kept in code: it stops the guesses an attacker tries first, which is what
 * matters against online guessing that is also throttled.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456', '123456789', '12345678', '1234567890', '12345', '1234567', '123123', '111111', '000000', '654321',
  'password', 'password1', 'password12', 'password123', 'password1234', 'password!', 'password1!', 'password123!',
  'p@ssw0rd', 'p@ssword', 'passw0rd', 'pa$$word', 'p@$$w0rd', 'p@ssw0rd1', 'p@ssw0rd123', 'passw0rd1', 'passw0rd!',
  'qwerty', 'qwerty123', 'qwerty1', 'qwertyuiop', 'qwerty12', 'qwerty123!', 'qwe123', 'qweasdzxc', '1q2w3e4r',
  '1q2w3e4r5t', '1qaz2wsx', '1qaz2wsx3edc', 'zaq12wsx', 'zaq1zaq1', 'asdfghjkl', 'asdfgh', 'zxcvbnm', 'abc123',
  'abc12345', 'abcd1234', 'abcdef', 'abcdefg', 'abcdefgh', 'a1b2c3d4', 'aa123456', 'iloveyou', 'iloveyou1',
  'welcome', 'welcome1', 'welcome123', 'welcome1!', 'letmein', 'letmein1', 'letmein123', 'admin', 'admin123',
  'admin1234', 'admin@123', 'administrator', 'root', 'toor', 'changeme', 'changeme1', 'changeme123', 'default',
  'secret', 'secret123', 'login', 'master', 'master123', 'monkey', 'monkey123', 'dragon', 'dragon123', 'football',
  'football1', 'baseball', 'baseball1', 'basketball', 'soccer', 'hockey', 'superman', 'batman', 'batman123',
  'trustno1', 'sunshine', 'sunshine1', 'princess', 'princess1', 'shadow', 'shadow123', 'michael', 'jennifer',
  'jordan23', 'charlie', 'charlie1', 'starwars', 'starwars1', 'whatever', 'freedom', 'computer', 'internet',
  'hello123', 'hello1234', 'helloworld', 'test', 'test123', 'test1234', 'testing', 'testing123', 'guest',
  'guest123', 'user', 'user123', 'user1234', 'summer', 'summer2024', 'summer2025', 'winter2024', 'spring2024',
  'autumn2024', 'fall2024', 'january2025', 'company123', 'temp123', 'temppass', 'temp1234', 'pass', 'pass123',
  'pass1234', 'passpass', 'mypassword', 'mypass123', 'newpassword', 'new123', 'love123', 'lovely', 'loveme',
  'flower', 'hunter2', 'hunter123', 'killer', 'ninja', 'mustang', 'access', 'access14', 'biteme', 'cheese',
  'ginger', 'hannah', 'matrix', 'pepper', 'silver', 'yankees', 'zxcvbn', '11111111', '00000000', '12341234',
  '87654321', '88888888', '99999999', '123qwe', '123abc', 'q1w2e3r4', 'q1w2e3r4t5', 'asdf1234', 'asd123',
  'passwort', 'motdepasse', 'contraseña', 'senha123', 'azerty', 'azerty123', 'conveyor', 'conveyor123',
  'starter', 'starter123', 'securepass', 'securepassword', 'securepass1', 'letmein!', 'welcome@123',
  'password@123', 'password#1', 'password@1', 'passw0rd@123', 'admin@1234', 'adminadmin', 'rootroot',
]);
