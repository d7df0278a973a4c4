import { randomBytes, randomInt } from 'node:crypto';
import { InvalidParameterError } from './errors.js';

// A shortened version of Docker's namesgenerator lists: enough variety that a
// collision is rare, and `generateName` retries with a numeric suffix anyway.
const ADJECTIVES = [
  'admiring', 'adoring', 'affectionate', 'agitated', 'amazing', 'angry', 'awesome', 'beautiful', 'blissful',
  'bold', 'boring', 'brave', 'busy', 'charming', 'clever', 'compassionate', 'competent', 'condescending',
  'confident', 'cool', 'cranky', 'crazy', 'dazzling', 'determined', 'distracted', 'dreamy', 'eager', 'ecstatic',
  'elastic', 'elated', 'elegant', 'eloquent', 'epic', 'exciting', 'fervent', 'festive', 'flamboyant', 'focused',
  'friendly', 'frosty', 'funny', 'gallant', 'gifted', 'goofy', 'gracious', 'great', 'happy', 'hardcore',
  'heuristic', 'hopeful', 'hungry', 'infallible', 'inspiring', 'intelligent', 'interesting', 'jolly', 'jovial',
  'keen', 'kind', 'laughing', 'loving', 'lucid', 'magical', 'modest', 'musing', 'mystifying', 'naughty',
  'nervous', 'nice', 'nifty', 'nostalgic', 'objective', 'optimistic', 'peaceful', 'pedantic', 'pensive',
  'practical', 'priceless', 'quirky', 'quizzical', 'recursing', 'relaxed', 'reverent', 'romantic', 'sad',
  'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'strange', 'stupefied', 'suspicious', 'sweet', 'tender',
  'thirsty', 'trusting', 'unruffled', 'upbeat', 'vibrant', 'vigilant', 'vigorous', 'wizardly', 'wonderful',
  'xenodochial', 'youthful', 'zealous', 'zen',
];

const SURNAMES = [
  'albattani', 'allen', 'almeida', 'archimedes', 'ardinghelli', 'babbage', 'banach', 'bardeen', 'bartik',
  'bassi', 'bell', 'benz', 'bhabha', 'blackwell', 'bohr', 'booth', 'borg', 'bose', 'brahmagupta', 'brattain',
  'brown', 'carson', 'cerf', 'chandrasekhar', 'chatelet', 'clarke', 'cohen', 'curie', 'darwin', 'davinci',
  'diffie', 'dijkstra', 'dirac', 'driscoll', 'easley', 'einstein', 'elion', 'engelbart', 'euclid', 'euler',
  'fermat', 'fermi', 'feynman', 'franklin', 'galileo', 'gates', 'goldberg', 'goldstine', 'goodall', 'hamilton',
  'hawking', 'heisenberg', 'hermann', 'hodgkin', 'hofstadter', 'hopper', 'hugle', 'hypatia', 'jackson',
  'jang', 'jennings', 'jepsen', 'johnson', 'joliot', 'jones', 'kalam', 'kare', 'keller', 'kepler', 'khorana',
  'kilby', 'kirch', 'knuth', 'kowalevski', 'lalande', 'lamarr', 'lamport', 'leakey', 'leavitt', 'lewin',
  'lichterman', 'liskov', 'lovelace', 'lumiere', 'mahavira', 'mayer', 'mccarthy', 'mcclintock', 'mclean',
  'meitner', 'mendel', 'merkle', 'mestorf', 'mirzakhani', 'montalcini', 'moore', 'morse', 'napier', 'nash',
  'neumann', 'newton', 'nobel', 'noether', 'northcutt', 'noyce', 'pascal', 'pasteur', 'payne', 'perlman',
  'pike', 'poincare', 'ptolemy', 'raman', 'ramanujan', 'ride', 'ritchie', 'roentgen', 'rosalind', 'saha',
  'sammet', 'shamir', 'shannon', 'shaw', 'shockley', 'sinoussi', 'snyder', 'spence', 'stonebraker',
  'sutherland', 'swanson', 'swartz', 'tesla', 'thompson', 'torvalds', 'turing', 'varahamihira', 'visvesvaraya',
  'volhard', 'wescoff', 'wilbur', 'wiles', 'williams', 'wilson', 'wing', 'wozniak', 'wright', 'wu', 'yalow',
  'yonath', 'zhukovsky',
];

/** Docker's rule for container names (a leading "/" is allowed and dropped). */
const NAME_PATTERN = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

/** A docker-style "adjective_surname"; after a few collisions, a numeric suffix as Docker does. */
export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; attempt < 20; attempt++) {
    const adjective = ADJECTIVES[randomInt(ADJECTIVES.length)]!;
    const surname = SURNAMES[randomInt(SURNAMES.length)]!;
    // Docker's one exception, kept for the joke's sake.
    if (adjective === 'boring' && surname === 'wozniak') continue;
    const name = attempt < 10 ? `${adjective}_${surname}` : `${adjective}_${surname}${randomInt(10)}`;
    if (!taken(name)) return name;
  }
  return `berth_${randomBytes(6).toString('hex')}`;
}

/** Validate a user-given container name and return it without the leading "/". */
export function normalizeName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new InvalidParameterError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name.slice(1) : name;
}
